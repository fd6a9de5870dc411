"""Names on the host derived from the daemon instance and record ids, so daemons never collide.

The default daemon (instance "") uses bridge `dw0` and table `dockwright`; Docker's `docker0`
and `br-…` names are never produced.
"""

from __future__ import annotations

import ipaddress

IFNAMSIZ = 15


def default_bridge(instance: str) -> str:
    return f"dw-{instance}" if instance else "dw0"


def nft_table(instance: str) -> str:
    return f"dockwright-{instance}" if instance else "dockwright"


def network_bridge(network_id: str) -> str:
    """The bridge device of a user-defined network."""
    return f"dwbr-{network_id[:10]}"


def veth_name(endpoint_id: str) -> str:
    return f"dwv{endpoint_id[:12]}"[:IFNAMSIZ]


def mac_for(ip: str) -> str:
    """Docker's scheme: 02:42 followed by the IPv4 address bytes."""
    packed = ipaddress.IPv4Address(ip).packed
    return "02:42:" + ":".join(f"{b:02x}" for b in packed)
