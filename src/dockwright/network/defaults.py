"""Pure: the records of the default network and of user-defined networks."""

from __future__ import annotations

import ipaddress
import time

from dockwright.errors import Forbidden, InvalidParameter
from dockwright.network import ipam, ipam6
from dockwright.network.model import Network, NetworkCreate
from dockwright.network.naming import network_bridge


def default_network(
    nid: str, bridge: str, subnet: str, gateway: str, subnet6: str = "", icc: bool = True
) -> Network:
    """The daemon's default network; `subnet6` (its --fixed-cidr-v6) makes it dual-stack."""
    options = {
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.enable_icc": "true" if icc else "false",
        "com.docker.network.bridge.enable_ip_masquerade": "true",
        "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
        "com.docker.network.bridge.name": bridge,
        "com.docker.network.driver.mtu": "1500",
    }
    net6 = ipam6.parse_subnet6(subnet6) if subnet6 else None
    return Network(
        nid, "bridge", "bridge", bridge, subnet, gateway, time.time(), options=options,
        default=True, subnet6=str(net6) if net6 else "",
        gateway6=ipam6.gateway6_of(net6) if net6 else "",
    )  # fmt: skip


def default_is_stale(
    n: Network,
    want: Network,
    bip: str,
    bridge_exists: bool,
    host_networks: list[str],
) -> bool:
    """Whether an idle default network must be rebuilt: the config (as `want`, the record it
    would make now) names another bridge, gateway, IPv6 pool or icc setting, or its derived
    subnet was taken (by another daemon) while its bridge was gone."""
    prefix = ipam.parse_subnet(n.subnet).prefixlen
    if want.bridge != n.bridge or (bip and bip != f"{n.gateway}/{prefix}"):
        return True
    if want.subnet6 != n.subnet6 or want.icc != n.icc:
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
    subnet6, gateway6 = ipv6_pool(nid, req, others)
    return Network(
        nid, req.name, "bridge", bridge, subnet, gateway, time.time(), req.ip_range,
        req.internal, mtu, dict(req.options), dict(req.labels), subnet6=subnet6,
        gateway6=gateway6, ip_range6=req.ip_range6 if subnet6 else "",
    )  # fmt: skip


def ipv6_pool(nid: str, req: NetworkCreate, others: list[Network]) -> tuple[str, str]:
    """(subnet, gateway) of a dual-stack network, ("", "") without IPv6; a unique-local /64
    when IPv6 is enabled without a pool. InvalidParameter for an IPv6 pool without EnableIPv6
    or a bad gateway/range, Forbidden when the pool overlaps another network's."""
    if not req.enable_ipv6:
        if req.subnet6:
            raise InvalidParameter(f"ipv6 subnet {req.subnet6} needs the network to enable ipv6")
        return "", ""
    subnet6 = str(ipam6.parse_subnet6(req.subnet6 or ipam6.ula_subnet(nid)))
    if any(ipam6.overlaps6(subnet6, o.subnet6) for o in others if o.subnet6):
        raise Forbidden("pool overlaps with other one on this address space")
    net6 = ipam6.parse_subnet6(subnet6)
    gateway6 = req.gateway6 or ipam6.gateway6_of(net6)
    ipam.check_in_subnet(gateway6, net6, "gateway")
    if req.ip_range6:
        rng = ipam6.parse_subnet6(req.ip_range6)
        ipam.check_in_subnet(str(rng.network_address), net6, "ip range")
    return subnet6, str(ipaddress.IPv6Address(gateway6))
