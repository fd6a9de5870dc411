"""Pure: which host ports a container publishes (Docker's PortBindings, ExposedPorts, -P).

`requests` turns the HostConfig into port requests; `assign` picks concrete host ports, taking
the ports other containers already hold and a predicate telling whether the host has one free.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from dockwright.errors import Conflict, InvalidParameter
from dockwright.network.model import PortMapping

EPHEMERAL = (32768, 60999)  # Linux's default ip_local_port_range, as Docker uses


@dataclass(frozen=True)
class PortRequest:
    proto: str
    container_port: int
    host_ip: str
    low: int  # 0 = any ephemeral port
    high: int


def parse_port_key(key: str) -> tuple[int, str]:
    """`80/tcp`, `53/udp`, `80` → (port, proto)."""
    port, _, proto = key.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp") or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidParameter(f"invalid port specification: {key!r}")
    return int(port), proto


def _host_range(text: str) -> tuple[int, int]:
    if not text:
        return 0, 0
    low, _, high = text.partition("-")
    try:
        lo, hi = int(low), int(high or low)
    except ValueError:
        raise InvalidParameter(f"invalid hostPort: {text}") from None
    if not 0 < lo <= hi < 65536:
        raise InvalidParameter(f"invalid hostPort: {text}")
    return lo, hi


def _host_ip(text: str) -> str:
    """The host address to publish on: "" (also for 0.0.0.0) for every address, "::" for every
    IPv6 one, else the address itself."""
    if text in ("", "0.0.0.0"):
        return ""
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise InvalidParameter(f"invalid host IP for published port: {text}") from None


def requests(
    bindings: Mapping[str, Sequence[Mapping[str, str]] | None],
    exposed: Iterable[str],
    publish_all: bool,
) -> list[PortRequest]:
    out: list[PortRequest] = []
    for key, entries in sorted(bindings.items()):
        port, proto = parse_port_key(key)
        for entry in entries or [{}]:
            ip = entry.get("HostIp", "") or ""
            low, high = _host_range(entry.get("HostPort", "") or "")
            out.append(PortRequest(proto, port, _host_ip(ip), low, high))
    if publish_all:
        bound = {parse_port_key(k) for k in bindings}
        for key in sorted(exposed):
            if parse_port_key(key) not in bound:
                port, proto = parse_port_key(key)
                out.append(PortRequest(proto, port, "", 0, 0))
    return out


def assign(
    reqs: Iterable[PortRequest],
    held: Iterable[PortMapping],
    is_free: Callable[[str, str, int], bool],
) -> tuple[PortMapping, ...]:
    """Concrete host ports; Conflict when a fixed port is taken (Docker's message)."""
    taken = {(m.proto, m.host_ip, m.host_port) for m in held}
    out: list[PortMapping] = []
    for r in reqs:
        port = _pick(r, taken, is_free)
        taken.add((r.proto, r.host_ip, port))
        out.append(PortMapping(r.proto, r.container_port, r.host_ip, port))
    return tuple(out)


def _clash(taken: set[tuple[str, str, int]], proto: str, ip: str, port: int) -> bool:
    return any(p == proto and h == port and (not i or not ip or i == ip) for p, i, h in taken)


def _pick(r: PortRequest, taken: set[tuple[str, str, int]], is_free: Callable[..., bool]) -> int:
    low, high = (r.low, r.high) if r.low else EPHEMERAL
    for port in range(low, high + 1):
        if not _clash(taken, r.proto, r.host_ip, port) and is_free(r.proto, r.host_ip, port):
            return port
    where = f"{r.host_ip or '0.0.0.0'}:{r.low}" if r.low == r.high and r.low else "any port"
    raise Conflict(
        f"driver failed programming external connectivity: bind for {where} failed: "
        "port is already allocated"
    )
