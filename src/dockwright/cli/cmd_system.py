"""System commands: version, info, events."""

from __future__ import annotations

import os
import sys
import time

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.cli.tables import TabWriter

TYPE_CHECKING = False  # hot path: typing and collections are imported only for the checker
if TYPE_CHECKING:
    from typing import Any


def client_version(ctx: Context) -> dict[str, Any]:
    from dockwright import __version__
    from dockwright.client.api import MAX_API_VERSION

    api = ctx.client.api_version or MAX_API_VERSION
    return {
        "Platform": {"Name": ""},
        "Version": __version__,
        "ApiVersion": api,
        "DefaultAPIVersion": MAX_API_VERSION,
        "GitCommit": "",
        "GoVersion": "python{}.{}.{}".format(*sys.version_info[:3]),
        "Os": "linux",
        "Arch": _arch(),
        "BuildTime": "",
        "Context": "default",
    }


def _arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def version_lines(client: dict[str, Any], server: dict[str, Any] | None) -> list[str]:
    """docker's default `version` text (before the tabwriter aligns it)."""
    api = client["ApiVersion"]
    downgraded = (
        f" (downgraded from {client['DefaultAPIVersion']})"
        if api != client["DefaultAPIVersion"]
        else ""
    )
    lines = [
        "Client:",
        f" Version:\t{client['Version']}",
        f" API version:\t{api}{downgraded}",
        f" Go version:\t{client['GoVersion']}",
        f" Git commit:\t{client['GitCommit']}",
        f" Built:\t{client['BuildTime']}",
        f" OS/Arch:\t{client['Os']}/{client['Arch']}",
        f" Context:\t{client['Context']}",
    ]
    if server is None:
        return lines
    name = (server.get("Platform") or {}).get("Name") or ""
    lines += ["", "Server:" + (f" {name}" if name else "")]
    for comp in server.get("Components") or [
        {"Name": "Engine", "Version": server.get("Version"), "Details": server}
    ]:
        lines += _component_lines(comp)
    return lines


def _component_lines(comp: dict[str, Any]) -> list[str]:
    details = comp.get("Details") or {}
    lines = [f" {comp.get('Name')}:"]
    if comp.get("Name") != "Engine":
        lines.append(f"  Version:\t{comp.get('Version')}")
        lines += [f"  {k}:\t{details[k]}" for k in sorted(details)]
        return lines
    get = lambda k: "" if details.get(k) is None else details.get(k)  # noqa: E731
    return lines + [
        f"  Version:\t{comp.get('Version')}",
        f"  API version:\t{get('ApiVersion')} (minimum version {get('MinAPIVersion')})",
        f"  Go version:\t{get('GoVersion')}",
        f"  Git commit:\t{get('GitCommit')}",
        f"  Built:\t{get('BuildTime')}",
        f"  OS/Arch:\t{get('Os')}/{get('Arch')}",
        f"  Experimental:\t{get('Experimental')}",
    ]


def version(ctx: Context, p: Parsed) -> int:
    from dockwright.client.errors import DaemonUnreachable

    server: dict[str, Any] | None = None
    error = ""
    try:
        server = ctx.client.get("/version")
    except DaemonUnreachable as exc:
        error = str(exc)
    client = client_version(ctx)
    data = {"Client": client, "Server": server}
    if p.opts["format"]:
        from dockwright.cli.formatter import render_one

        ctx.stdout.write(render_one(p.opts["format"], data))
    else:
        text = "\n".join(version_lines(client, server)) + "\n"
        ctx.stdout.write(TabWriter(minwidth=20, padding=1).format(text))
    if error:
        raise CommandExit(1, error)
    return 0


def info_lines(info: dict[str, Any]) -> list[str]:
    """The server half of `docker info` (the fields this engine reports)."""
    g = info.get
    lines = [
        "Server:",
        f" Containers: {g('Containers', 0)}",
        f"  Running: {g('ContainersRunning', 0)}",
        f"  Paused: {g('ContainersPaused', 0)}",
        f"  Stopped: {g('ContainersStopped', 0)}",
        f" Images: {g('Images', 0)}",
        f" Server Version: {g('ServerVersion', '')}",
        f" Storage Driver: {g('Driver', '')}",
        f" Logging Driver: {g('LoggingDriver', '')}",
        f" Cgroup Driver: {g('CgroupDriver', '')}",
        f" Cgroup Version: {g('CgroupVersion', '')}",
    ]
    runtimes = g("Runtimes") or {}
    if runtimes:
        lines.append(f" Runtimes: {' '.join(sorted(runtimes))}")
    lines += [
        f" Default Runtime: {g('DefaultRuntime', '')}",
        f" Kernel Version: {g('KernelVersion', '')}",
        f" Operating System: {g('OperatingSystem', '')}",
        f" OSType: {g('OSType', '')}",
        f" Architecture: {g('Architecture', '')}",
        f" CPUs: {g('NCPU', 0)}",
        f" Total Memory: {_bytes_size(g('MemTotal', 0))}",
        f" Name: {g('Name', '')}",
        f" ID: {g('ID', '')}",
        f" Docker Root Dir: {g('DockerRootDir', '')}",
        f" Debug Mode: {str(bool(g('Debug'))).lower()}",
        f" Experimental: {str(bool(g('ExperimentalBuild'))).lower()}",
        f" Live Restore Enabled: {str(bool(g('LiveRestoreEnabled'))).lower()}",
    ]
    return lines


def _bytes_size(n: Any) -> str:
    from dockwright.cli.units import bytes_size

    return bytes_size(float(n or 0))


def info(ctx: Context, p: Parsed) -> int:
    from dockwright import __version__

    data = ctx.client.get("/info") or {}
    if p.opts["format"]:
        from dockwright.cli.formatter import render_one

        data = {
            **data,
            "ClientInfo": {"Version": __version__, "Context": "default", "Debug": ctx.debug},
        }
        ctx.stdout.write(render_one(p.opts["format"], data))
        return 0
    client = [
        "Client:",
        f" Version:    {__version__}",
        " Context:    default",
        f" Debug Mode: {str(ctx.debug).lower()}",
        "",
    ]
    ctx.stdout.write("\n".join(client + info_lines(data)) + "\n")
    for warning in data.get("Warnings") or []:
        ctx.err(warning)
    return 0


EVENT_FIELDS = ("status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano")


def docker_order(ev: dict[str, Any]) -> dict[str, Any]:
    """The event with docker's struct field order (what `{{json .}}` prints there)."""
    ordered = {k: ev[k] for k in EVENT_FIELDS if k in ev}
    return {**ordered, **{k: v for k, v in ev.items() if k not in ordered}}


def event_time(ev: dict[str, Any]) -> str:
    """RFC3339NanoFixed in local time: 2024-01-02T15:04:05.000000000+01:00."""
    nanos = int(ev.get("timeNano") or 0) or int(ev.get("time") or 0) * 1_000_000_000
    secs, frac = divmod(nanos, 1_000_000_000)
    local = time.localtime(secs)
    offset = time.strftime("%z", local)
    zone = "Z" if offset in ("+0000", "-0000") else f"{offset[:3]}:{offset[3:]}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + f".{frac:09d}" + zone


def pretty_event(ev: dict[str, Any]) -> str:
    actor = ev.get("Actor") or {}
    head = f"{event_time(ev)} " if ev.get("timeNano") or ev.get("time") else ""
    line = f"{head}{ev.get('Type', '')} {ev.get('Action', '')} {actor.get('ID', '')}"
    attrs = actor.get("Attributes") or {}
    if attrs:
        line += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
    return line


def events(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_ps import parse_filters
    from dockwright.cli.formatter import compile_format, execute
    from dockwright.cli.timefmt import get_timestamp

    now = time.time()
    params = {
        "since": get_timestamp(p.opts["since"], now) or None,
        "until": get_timestamp(p.opts["until"], now) or None,
        "filters": parse_filters(p.opts["filter"]) or None,
    }
    fmt = p.opts["format"]
    tmpl = compile_format("{{json .}}" if fmt == "json" else fmt)[1] if fmt else None
    resp = ctx.client.request("GET", "/events", params)
    try:
        for ev in resp.iter_json():
            ctx.out(execute(tmpl, docker_order(ev)) if tmpl else pretty_event(ev))
            ctx.stdout.flush()
    finally:
        resp.close()
    return 0
