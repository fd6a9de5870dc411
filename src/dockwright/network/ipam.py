"""Pure IP address management: addresses inside a subnet, and subnets that avoid the host's.

Allocation takes the set of addresses already in use and returns the first free one, so the
state lives in the records (state.db) and a restart recomputes it from them.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable

from dockwright.errors import Conflict, InvalidParameter

Net = ipaddress.IPv4Network


def parse_subnet(text: str) -> Net:
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        raise InvalidParameter(f"invalid subnet {text}") from None


def gateway_of(subnet: Net) -> str:
    """Docker's default gateway: the first host address."""
    return str(subnet.network_address + 1)


def check_in_subnet(ip: str, subnet: Net | ipaddress.IPv6Network, what: str) -> None:
    """InvalidParameter unless `ip` is an address of `subnet`'s family inside it."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        raise InvalidParameter(f"invalid {what} {ip}") from None
    if addr.version != subnet.version:
        raise InvalidParameter(f"invalid {what} {ip}")
    if addr not in subnet:
        raise InvalidParameter(f"{what} {ip} does not belong to subnet {subnet}")


def allocate(
    subnet: str, gateway: str, used: Iterable[str], requested: str = "", ip_range: str = ""
) -> str:
    """The requested address when free, else the first free host address of the range."""
    net = parse_subnet(subnet)
    taken = {ipaddress.IPv4Address(a) for a in (*used, gateway) if a}
    if requested:
        check_in_subnet(requested, net, "ip address")
        if ipaddress.IPv4Address(requested) in taken:
            raise Conflict(f"address already in use: {requested}")
        return requested
    pool = parse_subnet(ip_range) if ip_range else net
    for addr in pool.hosts() if pool.prefixlen < 31 else pool:
        if addr not in taken and addr != net.broadcast_address:
            return str(addr)
    raise Conflict(f"no available addresses on network subnet {subnet}")


def overlaps(a: str, b: str) -> bool:
    return parse_subnet(a).overlaps(parse_subnet(b))


def choose_subnet(candidates: Iterable[str], taken: Iterable[str]) -> str:
    """The first candidate that overlaps nothing in `taken` (host routes, other networks)."""
    busy = [parse_subnet(t) for t in taken]
    for cand in candidates:
        net = parse_subnet(cand)
        if not any(net.overlaps(b) for b in busy):
            return str(net)
    raise Conflict("could not find an available, non-overlapping IPv4 address pool")


def default_candidates(instance: str) -> list[str]:
    """Pools for a daemon's default network: /16s for the default daemon, /24s (starting at a
    place derived from the instance) for the others, so several daemons rarely even try the same."""
    if not instance:
        return [f"172.{n}.0.0/16" for n in range(29, 19, -1)]
    start = int(hashlib.sha256(instance.encode()).hexdigest()[:4], 16) % 256
    return [f"10.213.{(start + k) % 256}.0/24" for k in range(256)]


def user_candidates() -> list[str]:
    """Pools for user-defined networks without a subnet."""
    return [f"10.214.{k}.0/24" for k in range(256)] + [f"10.215.{k}.0/24" for k in range(256)]
