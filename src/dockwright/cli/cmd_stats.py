"""`stats`: CPU %, memory, network and block I/O, PIDs from the stats endpoint (docker's math)."""

from __future__ import annotations

import sys

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.cli.units import bytes_size, human_size

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from typing import Any

STATS_HEADER = {
    "Container": "CONTAINER",
    "ID": "CONTAINER ID",
    "Name": "NAME",
    "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT",
    "MemPerc": "MEM %",
    "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O",
    "PIDs": "PIDS",
}
STATS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"


def cpu_percent(s: dict[str, Any]) -> float:
    """docker's calculateCPUPercentUnix: container delta / system delta × online CPUs × 100."""
    cpu, pre = s.get("cpu_stats") or {}, s.get("precpu_stats") or {}
    usage = (cpu.get("cpu_usage") or {}).get("total_usage", 0)
    pre_usage = (pre.get("cpu_usage") or {}).get("total_usage", 0)
    cpu_delta = usage - pre_usage
    system_delta = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
    online = (
        cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    )
    if system_delta > 0 and cpu_delta > 0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def memory_usage(s: dict[str, Any]) -> float:
    """Usage minus page cache (cgroup v2 inactive_file, v1 total_inactive_file), as docker."""
    mem = s.get("memory_stats") or {}
    usage = float(mem.get("usage") or 0)
    stats = mem.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in stats and stats[key] < usage:
            return usage - stats[key]
    return usage


def _io(s: dict[str, Any]) -> tuple[float, float, float, float]:
    rx = tx = 0.0
    for net in (s.get("networks") or {}).values():
        rx += net.get("rx_bytes", 0)
        tx += net.get("tx_bytes", 0)
    read = write = 0.0
    for entry in (s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []:
        op = str(entry.get("op", "")).lower()
        if op == "read":
            read += entry.get("value", 0)
        elif op == "write":
            write += entry.get("value", 0)
    return rx, tx, read, write


class StatsView:
    def __init__(self, name: str, s: dict[str, Any], trunc: bool = True) -> None:
        self.name, self.s, self.trunc = name, s, trunc

    @property
    def Container(self) -> str:  # noqa: N802
        return self.name

    @property
    def ID(self) -> str:  # noqa: N802
        ident = str(self.s.get("id") or "")
        return ident[:12] if self.trunc else ident

    @property
    def Name(self) -> str:  # noqa: N802
        return str(self.s.get("name") or "").lstrip("/") or "--"

    @property
    def CPUPerc(self) -> str:  # noqa: N802
        return f"{cpu_percent(self.s):.2f}%"

    @property
    def MemUsage(self) -> str:  # noqa: N802
        limit = float((self.s.get("memory_stats") or {}).get("limit") or 0)
        return f"{bytes_size(memory_usage(self.s))} / {bytes_size(limit)}"

    @property
    def MemPerc(self) -> str:  # noqa: N802
        limit = float((self.s.get("memory_stats") or {}).get("limit") or 0)
        return f"{memory_usage(self.s) / limit * 100.0 if limit else 0.0:.2f}%"

    @property
    def NetIO(self) -> str:  # noqa: N802
        rx, tx, _, _ = _io(self.s)
        return f"{human_size(rx, 3)} / {human_size(tx, 3)}"

    @property
    def BlockIO(self) -> str:  # noqa: N802
        _, _, read, write = _io(self.s)
        return f"{human_size(read, 3)} / {human_size(write, 3)}"

    @property
    def PIDs(self) -> str:  # noqa: N802
        return str((self.s.get("pids_stats") or {}).get("current", 0))

    def to_json(self) -> dict[str, str]:
        return {
            k: getattr(self, k)
            for k in (
                "BlockIO",
                "CPUPerc",
                "Container",
                "ID",
                "MemPerc",
                "MemUsage",
                "Name",
                "NetIO",
                "PIDs",
            )
        }


def _names(ctx: Context, p: Parsed) -> list[str]:
    if p.args:
        return list(p.args)
    listed = ctx.client.get("/containers/json", {"all": True if p.opts["all"] else None}) or []
    return [str(c["Id"]) for c in listed]


def _fmt(p: Parsed) -> str:
    fmt = p.opts["format"].strip()
    if fmt in ("", "table"):
        return STATS_TABLE
    return "{{json .}}" if fmt == "json" else fmt


def stats(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.formatter import render_items
    from dockwright.client.errors import APIError

    fmt = _fmt(p)
    if not p.opts["no_stream"]:
        return _stream(ctx, p, fmt)
    views, errors = [], []
    for name in _names(ctx, p):
        try:
            s = ctx.client.get(f"/containers/{name}/stats", {"stream": False, "one-shot": False})
        except APIError as exc:
            errors.append(str(exc))
            continue
        views.append(StatsView(name, s or {}, not p.opts["no_trunc"]))
    if views or not errors:
        ctx.stdout.write(render_items(fmt, views, STATS_HEADER))
    if errors:
        raise CommandExit(1, "\n".join(errors))
    return 0


def _stream(ctx: Context, p: Parsed, fmt: str) -> int:
    """Redraw the table every second (a simple version of docker's live view)."""
    import time

    from dockwright.cli.formatter import render_items

    tty = sys.stdout.isatty()
    while True:
        views = []
        for name in _names(ctx, p):
            try:
                s = ctx.client.get(f"/containers/{name}/stats", {"stream": False})
            except Exception:  # noqa: BLE001 - a container that went away leaves the table
                continue
            views.append(StatsView(name, s or {}, not p.opts["no_trunc"]))
        if tty:
            ctx.stdout.write("\x1b[2J\x1b[H")
        ctx.stdout.write(render_items(fmt, views, STATS_HEADER))
        ctx.stdout.flush()
        time.sleep(1)
