"""Pure: a container's endpoint on a network, from the allocations the records already hold."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from dockwright.network import ipam, ipam6, ports
from dockwright.network.model import Endpoint, Network, PortMapping
from dockwright.network.naming import mac_for, veth_name


def new_endpoint(
    n: Network,
    cid: str,
    name: str,
    used: Iterable[Endpoint],
    port_requests: list[ports.PortRequest],
    held_ports: Iterable[PortMapping],
    port_free: Callable[[str, str, int], bool],
    requested_ip: str = "",
    aliases: tuple[str, ...] = (),
    ifname: str = "eth0",
    requested_ip6: str = "",
) -> Endpoint:
    """Allocate an address (an IPv6 one too on a dual-stack network, and host ports) for
    container `cid` on `n`; raises Conflict when an address or a fixed port is taken."""
    used = list(used)
    ip = ipam.allocate(n.subnet, n.gateway, [e.ip for e in used], requested_ip, n.ip_range)
    ip6 = ""
    if n.ipv6:
        held6 = [e.ip6 for e in used]
        ip6 = ipam6.allocate6(n.subnet6, n.gateway6, held6, requested_ip6, n.ip_range6)
    eid = secrets.token_hex(32)
    return Endpoint(
        id=eid,
        network_id=n.id,
        container_id=cid,
        container_name=name,
        host_ifname=veth_name(eid),
        ip=ip,
        prefixlen=ipam.parse_subnet(n.subnet).prefixlen,
        gateway=n.gateway,
        mac=mac_for(ip),
        ports=ports.assign(port_requests, held_ports, port_free),
        aliases=aliases,
        static_ip=requested_ip,
        ifname=ifname,
        default_route=ifname == "eth0" and not n.internal,  # internal: no way out
        ip6=ip6,
        prefixlen6=ipam6.parse_subnet6(n.subnet6).prefixlen if ip6 else 0,
        gateway6=n.gateway6 if ip6 else "",
        static_ip6=requested_ip6 if ip6 else "",
    )


def hosts_with_address(hosts: str, ip: str, host_gateway: str = "", ip6: str = "") -> str:
    """Docker's /etc/hosts for a bridged container: its own name on its addresses (not
    127.0.1.1), and `--add-host name:host-gateway` entries on the default bridge's gateway."""
    out = []
    for line in hosts.splitlines():
        addr, _, names = line.partition("\t")
        if addr == "127.0.1.1":
            line = f"{ip}\t{names}" + (f"\n{ip6}\t{names}" if ip6 else "")
        elif addr == "host-gateway" and host_gateway:
            line = f"{host_gateway}\t{names}"
        out.append(line)
    return "\n".join(out) + "\n"


def next_ifname(existing: Iterable[Endpoint]) -> str:
    """The lowest ethN a container does not use yet."""
    taken = {e.ifname for e in existing}
    n = 0
    while f"eth{n}" in taken:
        n += 1
    return f"eth{n}"
