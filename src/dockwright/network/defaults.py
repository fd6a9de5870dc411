"""Pure: the records of the default network and of user-defined networks."""

from __future__ import annotations

import time

from dockwright.errors import Forbidden
from dockwright.network import ipam
from dockwright.network.model import Network, NetworkCreate
from dockwright.network.naming import network_bridge


def default_network(nid: str, bridge: str, subnet: str, gateway: str) -> Network:
    options = {
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.enable_icc": "true",
        "com.docker.network.bridge.enable_ip_masquerade": "true",
        "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
        "com.docker.network.bridge.name": bridge,
        "com.docker.network.driver.mtu": "1500",
    }
    return Network(
        nid, "bridge", "bridge", bridge, subnet, gateway, time.time(), options=options,
        default=True,
    )  # fmt: skip


def default_is_stale(
    n: Network, bridge: str, bip: str, bridge_exists: bool, host_networks: list[str]
) -> bool:
    """Whether an idle default network must be rebuilt: the config names another bridge or
    gateway, or its derived subnet was taken (by another daemon) while its bridge was gone."""
    prefix = ipam.parse_subnet(n.subnet).prefixlen
    if bridge != n.bridge or (bip and bip != f"{n.gateway}/{prefix}"):
        return True
    if bip or bridge_exists:
        return False
    return any(ipam.overlaps(n.subnet, t) for t in host_networks)


def user_network(
    nid: str, req: NetworkCreate, others: list[Network], host_networks: list[str]
) -> Network:
    """A user-defined bridge network; Forbidden when the asked subnet overlaps another's."""
    if req.subnet:
        subnet = str(ipam.parse_subnet(req.subnet))
        if any(ipam.overlaps(subnet, o.subnet) for o in others if o.subnet):
            raise Forbidden("pool overlaps with other one on this address space")
    else:
        taken = host_networks + [o.subnet for o in others if o.subnet]
        subnet = ipam.choose_subnet(ipam.user_candidates(), taken)
    net = ipam.parse_subnet(subnet)
    gateway = req.gateway or ipam.gateway_of(net)
    ipam.check_in_subnet(gateway, net, "gateway")
    if req.ip_range:
        ipam.check_in_subnet(str(ipam.parse_subnet(req.ip_range).network_address), net, "ip range")
    bridge = req.options.get("com.docker.network.bridge.name") or network_bridge(nid)
    mtu = int(req.options.get("com.docker.network.driver.mtu", "1500") or 1500)
    return Network(
        nid, req.name, "bridge", bridge, subnet, gateway, time.time(), req.ip_range,
        req.internal, mtu, dict(req.options), dict(req.labels),
    )  # fmt: skip
