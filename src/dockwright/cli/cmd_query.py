"""Read-only container views: top, diff, port."""

from __future__ import annotations

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.cli.tables import TabWriter

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from typing import Any

CHANGE_KINDS = {0: "C", 1: "A", 2: "D"}


def top(ctx: Context, p: Parsed) -> int:
    name, ps_args = p.args[0], " ".join(p.args[1:])
    body = ctx.client.get(f"/containers/{name}/top", {"ps_args": ps_args or None}) or {}
    lines = ["\t".join(body.get("Titles") or [])]
    lines += ["\t".join(str(c) for c in proc) for proc in body.get("Processes") or []]
    ctx.stdout.write(TabWriter(minwidth=20, padding=3).format("\n".join(lines) + "\n"))
    return 0


def diff(ctx: Context, p: Parsed) -> int:
    changes = ctx.client.get(f"/containers/{p.args[0]}/changes") or []
    for change in changes:
        ctx.out(f"{CHANGE_KINDS.get(change.get('Kind'), '?')} {change.get('Path')}")
    return 0


def _host(binding: dict[str, Any]) -> str:
    ip = binding.get("HostIp") or "0.0.0.0"
    return f"[{ip}]:{binding.get('HostPort')}" if ":" in ip else f"{ip}:{binding.get('HostPort')}"


def port_lines(ports: dict[str, Any] | None, wanted: str | None) -> list[str] | None:
    """`port` output lines; None when `wanted` is given but not published."""
    ports = ports or {}

    def key(spec: str) -> tuple[int, str]:
        number, _, proto = spec.partition("/")
        return (int(number) if number.isdigit() else 0, proto)

    if wanted:
        spec = wanted if "/" in wanted else f"{wanted}/tcp"
        bindings = ports.get(spec)
        if not bindings:
            return None
        return [_host(b) for b in bindings]
    lines = []
    for spec in sorted(ports, key=key):
        for binding in ports[spec] or []:
            lines.append(f"{spec} -> {_host(binding)}")
    return lines


def port(ctx: Context, p: Parsed) -> int:
    info = ctx.client.get(f"/containers/{p.args[0]}/json")
    wanted = p.args[1] if len(p.args) > 1 else None
    lines = port_lines((info.get("NetworkSettings") or {}).get("Ports"), wanted)
    if lines is None:
        spec = wanted if wanted and "/" in wanted else f"{wanted}/tcp"
        raise CommandExit(1, f"Error: No public port '{spec}' published for {p.args[0]}")
    for line in lines:
        ctx.out(line)
    return 0
