"""`dockwright builder prune` and `dockwright builder cache ls|export|import` (cache mounts).

`builder cache` is dockwright's own: it moves the `RUN --mount=type=cache` directories between
machines (CI runners) as one tar file, over the daemon's `/build/cache-mounts` endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed

CHUNK = 1 << 16
CACHE_USAGE = "dockwright builder cache ls | export [-o FILE] [ID...] | import FILE|-"


def prune(ctx: Context, p: Parsed) -> int:
    """Docker's `builder prune` output; cache mounts are part of what goes."""
    from dockwright.cli.cmd_lifecycle import confirm
    from dockwright.cli.units import human_size

    warning = "WARNING! This will remove all dangling build cache."
    if p.opts["all"]:
        warning = "WARNING! This will remove all build cache."
    if not p.opts["force"] and not confirm(ctx, warning):
        return 0
    report = ctx.client.post("/build/prune", {"all": p.opts["all"] or None}) or {}
    deleted = report.get("CachesDeleted") or []
    if deleted:
        ctx.out("Deleted build cache objects:")
        for item in deleted:
            ctx.out(str(item))
        ctx.out("")
    ctx.out(f"Total reclaimed space: {human_size(int(report.get('SpaceReclaimed') or 0))}")
    return 0


def cache(ctx: Context, p: Parsed) -> int:
    action, rest = p.args[0], list(p.args[1:])
    if action == "ls":
        return _ls(ctx)
    if action == "export":
        return ctx.download("/build/cache-mounts/export", {"id": rest or None}, p.opts["output"])
    if action == "import":
        if len(rest) != 1:
            raise CommandExit(
                1, f'"builder cache import" requires exactly 1 argument: {CACHE_USAGE}'
            )
        return _import(ctx, rest[0])
    raise CommandExit(1, f'unknown action "{action}": {CACHE_USAGE}')


def _ls(ctx: Context) -> int:
    from dockwright.cli.tables import tabwrite
    from dockwright.cli.units import human_size

    rows = ["CACHE ID\tSIZE\tLAST USED"]
    for item in ctx.client.get("/build/cache-mounts") or []:
        rows.append(f"{item['ID']}\t{human_size(item['Size'])}\t{item['LastUsedAt']}")
    ctx.stdout.write(tabwrite("\n".join(rows) + "\n"))
    return 0


def _import(ctx: Context, source: str) -> int:
    headers = {"Content-Type": "application/x-tar"}
    if source == "-":
        body = _chunks(ctx.stdin)
        resp = ctx.client.request("POST", "/build/cache-mounts/import", None, body, headers)
    else:
        try:
            f = open(source, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise CommandExit(1, f"open {source}: {(exc.strerror or str(exc)).lower()}") from None
        with f:
            resp = ctx.client.request(
                "POST", "/build/cache-mounts/import", None, _chunks(f), headers
            )
    for cache_id in resp.json().get("Imported") or []:
        ctx.out(f"Imported cache mount {cache_id}")
    return 0


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    while data := f.read(CHUNK):
        yield data
