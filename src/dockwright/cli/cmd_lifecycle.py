"""Commands that change containers: stop, kill, restart, rm, pause, unpause, rename, wait,
update, container prune. Per-container errors are collected and printed the way docker 28 does.
"""

from __future__ import annotations

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.client.errors import APIError
from dockwright.errors import DockwrightError

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def each(
    ctx: Context,
    names: list[str],
    act: Callable[[str], Any],
    show: bool = True,
    joined: bool = True,
) -> int:
    """Apply `act` to every name; print successes as they happen, errors after (exit 1)."""
    errors: list[str] = []
    for name in names:
        try:
            result = act(name)
        except APIError as exc:
            if not joined:
                ctx.err(str(exc))
            errors.append(str(exc))
            continue
        if show:
            ctx.out(str(result if result is not None else name))
    if errors and joined:
        raise CommandExit(1, "\n".join(errors))
    return 1 if errors else 0


def _post(ctx: Context, path: str, params: dict[str, Any] | None = None) -> None:
    ctx.client.request("POST", path, params).read()


def _timeout(p: Parsed) -> int | None:
    value = p.opts["timeout"] if p.opts["timeout"] is not None else p.opts.get("time")
    return value


def stop(ctx: Context, p: Parsed) -> int:
    params = {"t": _timeout(p), "signal": p.opts["signal"] or None}
    return each(ctx, p.args, lambda n: _post(ctx, f"/containers/{n}/stop", params))


def restart(ctx: Context, p: Parsed) -> int:
    params = {"t": _timeout(p), "signal": p.opts["signal"] or None}
    return each(ctx, p.args, lambda n: _post(ctx, f"/containers/{n}/restart", params))


def kill(ctx: Context, p: Parsed) -> int:
    params = {"signal": p.opts["signal"] or None}
    return each(ctx, p.args, lambda n: _post(ctx, f"/containers/{n}/kill", params))


def pause(ctx: Context, p: Parsed) -> int:
    return each(ctx, p.args, lambda n: _post(ctx, f"/containers/{n}/pause"))


def unpause(ctx: Context, p: Parsed) -> int:
    return each(ctx, p.args, lambda n: _post(ctx, f"/containers/{n}/unpause"))


def rm(ctx: Context, p: Parsed) -> int:
    params = {
        "force": p.opts["force"] or None,
        "v": p.opts["volumes"] or None,
        "link": p.opts["link"] or None,
    }

    def remove(name: str) -> str:
        name = name.strip("/")
        if not name:
            raise APIError(400, "Container name cannot be empty")
        ctx.client.request("DELETE", f"/containers/{name}", params).read()
        return name

    return each(ctx, p.args, remove)


def rename(ctx: Context, p: Parsed) -> int:
    old, new = p.args[0].strip(), p.args[1].strip()
    if not old or not new:
        raise CommandExit(1, "Error: neither old nor new names may be empty")
    try:
        _post(ctx, f"/containers/{old}/rename", {"name": new})
    except DockwrightError as exc:
        raise CommandExit(1, f"{exc}\nError: failed to rename container named {old}") from None
    return 0


def wait(ctx: Context, p: Parsed) -> int:
    def wait_one(name: str) -> int:
        body = ctx.client.request("POST", f"/containers/{name}/wait").json() or {}
        err = (body.get("Error") or {}).get("Message")
        if err:
            raise APIError(500, err)
        return int(body.get("StatusCode", 0))

    return each(ctx, p.args, wait_one)


UPDATE_FIELDS = {
    "blkio_weight": "BlkioWeight",
    "cpu_period": "CpuPeriod",
    "cpu_quota": "CpuQuota",
    "cpu_rt_period": "CpuRealtimePeriod",
    "cpu_rt_runtime": "CpuRealtimeRuntime",
    "cpu_shares": "CpuShares",
    "cpus": "NanoCpus",
    "cpuset_cpus": "CpusetCpus",
    "cpuset_mems": "CpusetMems",
    "memory": "Memory",
    "memory_reservation": "MemoryReservation",
    "memory_swap": "MemorySwap",
    "pids_limit": "PidsLimit",
}


def update_body(p: Parsed) -> dict[str, Any]:
    """Only the flags given go into the body (docker sends zero values, which mean "keep")."""
    from dockwright.cli.runparse import parse_restart

    body: dict[str, Any] = {
        api: p.opts[dest] for dest, api in UPDATE_FIELDS.items() if dest in p.given
    }
    if "restart" in p.given:
        body["RestartPolicy"] = parse_restart(p.opts["restart"])
    return body


def update(ctx: Context, p: Parsed) -> int:
    from dockwright.errors import DockwrightError

    if not p.given:
        raise CommandExit(1, "you must provide one or more flags when using this command")
    try:
        body = update_body(p)
    except DockwrightError as exc:
        raise CommandExit(1, str(exc)) from None

    def update_one(name: str) -> None:
        resp = ctx.client.post(f"/containers/{name}/update", None, body) or {}
        for warning in resp.get("Warnings") or []:
            ctx.err(warning)

    return each(ctx, p.args, update_one)


def confirm(ctx: Context, warning: str) -> bool:
    ctx.stdout.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    ctx.stdout.flush()
    line = ctx.stdin.readline().decode(errors="replace").strip().lower()
    return line in ("y", "yes")


def prune(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_ps import parse_filters
    from dockwright.cli.units import human_size

    warning = "WARNING! This will remove all stopped containers."
    if not p.opts["force"] and not confirm(ctx, warning):
        return 0
    report = (
        ctx.client.post("/containers/prune", {"filters": parse_filters(p.opts["filter"]) or None})
        or {}
    )
    deleted = report.get("ContainersDeleted") or []
    if deleted:
        ctx.out("Deleted Containers:")
        for cid in deleted:
            ctx.out(cid)
        ctx.out()
    ctx.out(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0)}")
    return 0
