"""Pure: the daemon's nftables tables as one script, applied atomically with `nft -f -`.

Three tables of one name: `ip` and `ip6` (NAT, published ports, isolation) and `bridge`
(inter-container traffic on networks with enable_icc=false). They are rewritten whole on every
change (create + delete + create in one transaction), so the rules are always exactly what the
records say, and a restarted daemon restores them by rendering again. Published ports are DNAT
rules for packets to a local address, from outside (prerouting) and from the host itself
(output, 127.0.0.1 included: the bridge has route_localnet set and such packets are
masqueraded to the gateway; [::1] is relayed by network.proxy). The forward chains keep
networks apart (Docker's isolation rules) and, unless the host forwards, keep containers
from being routed beyond the bridges (each bridge forwards itself, for hairpin traffic).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dockwright.network.model import Endpoint, Network

FAMILIES = ("ip", "ip6", "bridge")
# set on DNATed packets so the bridge table lets a hairpin through on a network with icc off:
# with br_netfilter, a packet DNATed back onto its own bridge is bridged, not routed
HAIRPIN_MARK = "0x00100000"


@dataclass(frozen=True)
class RuleInput:
    networks: tuple[Network, ...]
    endpoints: tuple[Endpoint, ...]
    # whether containers may be routed beyond the bridges (the host forwards: ip_forward for
    # IPv4, all.forwarding for IPv6); the bridges forward to each other in any case, for
    # hairpin and published ports across networks
    egress: bool = True
    egress6: bool = True


def render(table: str, data: RuleInput) -> str:
    """The three tables of this daemon: `ip` and `ip6` (NAT, published ports, isolation) and
    `bridge` (frames between containers of a network with inter-container traffic off)."""
    return _render_ip(table, data) + _render_ip6(table, data) + _render_bridge(table, data)


def delete(table: str) -> str:
    return "".join(f"table {f} {table} {{}}\ndelete table {f} {table}\n" for f in FAMILIES)


def _table(family: str, table: str, body: list[str]) -> str:
    lines = [f"table {family} {table} {{}}", f"delete table {family} {table}"]
    lines += [f"table {family} {table} {{", *body, "}"]
    return "\n".join(lines) + "\n"


def _render_ip(table: str, data: RuleInput) -> str:
    body = _chain("prerouting", "nat hook prerouting priority dstnat", _jump())
    body += _chain("output", "nat hook output priority -100", _jump())
    body += _chain("postrouting", "nat hook postrouting priority srcnat", _masq(data.networks))
    rules = _isolate(data.networks, data.egress)
    body += _chain("forward", "filter hook forward priority filter", rules)
    body += _marks(data.networks)
    body += _chain("ports", "", _dnat(data.endpoints))
    return _table("ip", table, body)


def _render_ip6(table: str, data: RuleInput) -> str:
    """The IPv6 side of dual-stack networks. No [::1] here: IPv6 has no route_localnet, so
    loopback packets can never be sent to a bridge (network.proxy relays [::1] instead)."""
    v6 = tuple(n for n in data.networks if n.ipv6)
    jump = ["ip6 daddr != ::1 fib daddr type local jump ports"]  # ::1 is the daemon's relay
    body = _chain("prerouting", "nat hook prerouting priority dstnat", jump)
    body += _chain("output", "nat hook output priority -100", jump)
    body += _chain("postrouting", "nat hook postrouting priority srcnat", _masq6(v6))
    body += _chain("forward", "filter hook forward priority filter", _isolate(v6, data.egress6))
    body += _marks(v6)
    body += _chain("ports", "", _dnat6(data.endpoints))
    return _table("ip6", table, body)


def _render_bridge(table: str, data: RuleInput) -> str:
    """Networks with enable_icc=false: IP frames are never bridged between two of their
    veths (routed traffic, to the gateway and beyond or hairpinned, is never bridged), so
    this holds without br_netfilter."""
    rules = [f"meta mark & {HAIRPIN_MARK} == {HAIRPIN_MARK} accept"]
    for n in sorted((n for n in data.networks if not n.icc), key=lambda n: n.bridge):
        ports = sorted(e.host_ifname for e in data.endpoints if e.network_id == n.id)
        if len(ports) > 1:
            names = ", ".join(f'"{p}"' for p in ports)
            rules.append(
                f"iifname {{ {names} }} oifname {{ {names} }} meta protocol {{ ip, ip6 }} drop"
            )
    hook = "filter hook forward priority filter"
    body = _chain("forward", hook, rules) if len(rules) > 1 else []
    return _table("bridge", table, body)


def _marks(networks: Iterable[Network]) -> list[str]:
    """The hairpin mark, only where some network has icc off (it costs a hook per packet)."""
    if all(n.icc for n in networks):
        return []
    rule = f"ct status dnat meta mark set meta mark | {HAIRPIN_MARK}"
    return _chain("marks", "filter hook prerouting priority -90", [rule])


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


def _masq6(networks: Iterable[Network]) -> list[str]:
    out: list[str] = []
    for n in sorted(networks, key=lambda n: n.bridge):
        br = n.bridge
        out.append(f'ip6 saddr {n.subnet6} oifname "{br}" ct status dnat masquerade')
        if not n.internal:
            out.append(f'ip6 saddr {n.subnet6} oifname != "{br}" masquerade')
    return out


def _isolate(networks: Iterable[Network], egress: bool) -> list[str]:
    """Networks do not reach each other, except through a published port (DNATed traffic:
    Docker's hairpin, also across networks); internal ones reach nothing beyond their bridge;
    without `egress` no container reaches beyond the bridges (but replies to published ports
    do go out)."""
    nets = sorted(networks, key=lambda n: n.bridge)
    bridges = [n.bridge for n in nets]
    everyone = ", ".join(f'"{b}"' for b in bridges)
    out: list[str] = []
    for n in (n for n in nets if n.internal):
        out.append(f'iifname "{n.bridge}" oifname != "{n.bridge}" drop')
        out.append(f'oifname "{n.bridge}" iifname != "{n.bridge}" drop')
    if nets:
        out.append("ct status dnat accept")
    if nets and not egress:
        out.append(f"iifname {{ {everyone} }} oifname != {{ {everyone} }} drop")
    for n in (n for n in nets if not n.internal):
        others = [b for b in bridges if b != n.bridge]
        if others:
            names = ", ".join(f'"{b}"' for b in others)
            out.append(f'iifname "{n.bridge}" oifname {{ {names} }} drop')
    return out


def _dnat(endpoints: Iterable[Endpoint]) -> list[str]:
    out: list[str] = []
    for ep in sorted(endpoints, key=lambda e: e.id):
        for m in ep.ports:
            if m.proto not in ("tcp", "udp") or ":" in m.host_ip:
                continue
            match = f"ip daddr {m.host_ip} " if m.host_ip else ""
            out.append(f"{match}{m.proto} dport {m.host_port} dnat to {ep.ip}:{m.container_port}")
    return out


def _dnat6(endpoints: Iterable[Endpoint]) -> list[str]:
    out: list[str] = []
    for ep in sorted((e for e in endpoints if e.ip6), key=lambda e: e.id):
        for m in ep.ports:
            if m.proto not in ("tcp", "udp") or (m.host_ip and ":" not in m.host_ip):
                continue
            if m.host_ip == "::1":  # relayed by the daemon, never NATed
                continue
            match = f"ip6 daddr {m.host_ip} " if m.host_ip not in ("", "::") else ""
            dest = f"[{ep.ip6}]:{m.container_port}"
            out.append(f"{match}{m.proto} dport {m.host_port} dnat to {dest}")
    return out
