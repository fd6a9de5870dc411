"""Pure IPv6 address management for dual-stack networks.

Like `ipam`, allocation is a function of the addresses the records hold: the gateway is the
subnet's first address, containers get the next free ones in order (Docker's default IPAM
since 25.0), so a restarted daemon recomputes the free ones from the endpoints.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable

from dockwright.errors import Conflict, InvalidParameter
from dockwright.network.ipam import check_in_subnet

Net6 = ipaddress.IPv6Network
_SCAN = 65536  # addresses looked at before a pool counts as full (a /64 is never scanned whole)


def is_v6(text: str) -> bool:
    return ":" in text


def parse_subnet6(text: str) -> Net6:
    try:
        net = ipaddress.IPv6Network(text, strict=False)
    except ValueError:
        raise InvalidParameter(f"invalid subnet {text}") from None
    if net.prefixlen > 126:
        raise InvalidParameter(f"ipv6 subnet {text} is too small")
    return net


def gateway6_of(subnet: Net6) -> str:
    return str(subnet.network_address + 1)


def allocate6(
    subnet: str, gateway: str, used: Iterable[str], requested: str = "", ip_range: str = ""
) -> str:
    """The requested address when free, else the first free one of the range (never the
    subnet-router anycast address, the network address itself)."""
    net = parse_subnet6(subnet)
    taken = {ipaddress.IPv6Address(a) for a in (*used, gateway) if a}
    if requested:
        check_in_subnet(requested, net, "ipv6 address")
        if ipaddress.IPv6Address(requested) in taken:
            raise Conflict(f"address already in use: {requested}")
        return str(ipaddress.IPv6Address(requested))
    pool = parse_subnet6(ip_range) if ip_range else net
    first = max(int(pool.network_address), int(net.network_address) + 1)
    last = min(int(pool.broadcast_address), first + _SCAN)
    for value in range(first, last + 1):
        addr = ipaddress.IPv6Address(value)
        if addr not in taken:
            return str(addr)
    raise Conflict(f"no available addresses on network subnet {subnet}")


def ula_subnet(seed: str) -> str:
    """A unique-local /64 for a network created with EnableIPv6 but no IPv6 pool: fd00::/8 with
    40 bits derived from `seed` (the network id), as RFC 4193 asks for a random global id."""
    digest = hashlib.sha256(seed.encode()).digest()
    prefix = bytes([0xFD]) + digest[:5] + bytes(10)
    return str(ipaddress.IPv6Network((prefix, 64)))


def overlaps6(a: str, b: str) -> bool:
    return parse_subnet6(a).overlaps(parse_subnet6(b))
