"""Pure: the daemon's nftables table as one script, applied atomically with `nft -f -`.

The whole table is rewritten on every change (create + delete + create in one transaction), so
the rules are always exactly what the records say, and a restarted daemon restores them by
rendering again. Published ports are DNAT rules for packets to a local address, from outside
(prerouting) and from the host itself (output, 127.0.0.1 included: the bridge has
route_localnet set and such packets are masqueraded to the gateway). The forward chain keeps
networks apart when the host forwards (Docker's isolation rules).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dockwright.network.model import Endpoint, Network


@dataclass(frozen=True)
class RuleInput:
    networks: tuple[Network, ...]
    endpoints: tuple[Endpoint, ...]


def render(table: str, data: RuleInput) -> str:
    lines = [f"table ip {table} {{}}", f"delete table ip {table}", f"table ip {table} {{"]
    lines += _chain("prerouting", "nat hook prerouting priority dstnat", _jump())
    lines += _chain("output", "nat hook output priority -100", _jump())
    lines += _chain("postrouting", "nat hook postrouting priority srcnat", _masq(data.networks))
    lines += _chain("forward", "filter hook forward priority filter", _isolate(data.networks))
    lines += _chain("ports", "", _dnat(data.endpoints))
    lines.append("}")
    return "\n".join(lines) + "\n"


def delete(table: str) -> str:
    return f"table ip {table} {{}}\ndelete table ip {table}\n"


def _chain(name: str, hook: str, rules: Iterable[str]) -> list[str]:
    head = [f"\tchain {name} {{"]
    if hook:
        head.append(f"\t\ttype {hook}; policy accept;")
    return head + [f"\t\t{r}" for r in rules] + ["\t}"]


def _jump() -> list[str]:
    return ["fib daddr type local jump ports"]


def _masq(networks: Iterable[Network]) -> list[str]:
    out: list[str] = []
    for n in sorted(networks, key=lambda n: n.bridge):
        br = n.bridge
        out.append(f'ip saddr 127.0.0.0/8 oifname "{br}" masquerade')
        out.append(f'ip saddr {n.subnet} oifname "{br}" ct status dnat masquerade')
        if not n.internal:
            out.append(f'ip saddr {n.subnet} oifname != "{br}" masquerade')
    return out


def _isolate(networks: Iterable[Network]) -> list[str]:
    """Networks do not reach each other; internal ones reach nothing beyond their bridge."""
    bridges = sorted(n.bridge for n in networks)
    out: list[str] = []
    for n in sorted(networks, key=lambda n: n.bridge):
        others = [b for b in bridges if b != n.bridge]
        if n.internal:
            out.append(f'iifname "{n.bridge}" oifname != "{n.bridge}" drop')
            out.append(f'oifname "{n.bridge}" iifname != "{n.bridge}" drop')
        elif others:
            names = ", ".join(f'"{b}"' for b in others)
            out.append(f'iifname "{n.bridge}" oifname {{ {names} }} drop')
    return out


def _dnat(endpoints: Iterable[Endpoint]) -> list[str]:
    out: list[str] = []
    for ep in sorted(endpoints, key=lambda e: e.id):
        for m in ep.ports:
            if m.proto not in ("tcp", "udp"):
                continue
            match = f"ip daddr {m.host_ip} " if m.host_ip else ""
            out.append(f"{match}{m.proto} dport {m.host_port} dnat to {ep.ip}:{m.container_port}")
    return out
