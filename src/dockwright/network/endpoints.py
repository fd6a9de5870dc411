"""Pure: a container's endpoint on a network, from the allocations the records already hold."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from dockwright.network import ipam, ports
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
) -> Endpoint:
    """Allocate an address (and host ports) for container `cid` on `n`; raises Conflict when
    the address or a fixed port is taken."""
    ip = ipam.allocate(n.subnet, n.gateway, [e.ip for e in used], requested_ip, n.ip_range)
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
    )


def hosts_with_address(hosts: str, ip: str, host_gateway: str = "") -> str:
    """Docker's /etc/hosts for a bridged container: its own name on its address (not
    127.0.1.1), and `--add-host name:host-gateway` entries on the default bridge's gateway."""
    out = []
    for line in hosts.splitlines():
        addr, _, names = line.partition("\t")
        if addr == "127.0.1.1":
            line = f"{ip}\t{names}"
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
