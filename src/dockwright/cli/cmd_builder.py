"""`dockwright builder prune` and `dockwright builder cache ls|export|import` (cache mounts).

`builder cache` is dockwright's own: it moves the `RUN --mount=type=cache` directories between
machines (CI runners) as one tar file, over the daemon's `/build/cache-mounts` endpoints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed

CHUNK = 1 << 16
CACHE_USAGE = "dockwright builder cache ls | export [-o FILE] [ID...] | import FILE|-"


NORMAL_WARNING = (
    "WARNING! This will remove all dangling build cache. Are you sure you want to continue?"
)
ALL_WARNING = "WARNING! This will remove all build cache. Are you sure you want to continue?"


def prune(ctx: Context, p: Parsed) -> int:
    """Docker's `builder prune`: its one-line prompt, its query, its output; cache mounts are
    part of what goes. Declining ends quietly with status 0, as docker does."""
    params = prune_params(p.opts["all"], p.opts["filter"], p.opts["keep_storage"])
    if not p.opts["force"] and not _confirm(ctx, ALL_WARNING if p.opts["all"] else NORMAL_WARNING):
        return 0
    report = ctx.client.post("/build/prune", params) or {}
    ctx.stdout.write(prune_text(report))
    return 0


def prune_params(all: bool, filters: list[str], keep_storage: str) -> dict[str, Any]:
    """The query docker 28 sends: `all=1`, `keep-storage` when set, `filters` always."""
    from dockwright.cli.units import ram_in_bytes

    try:
        keep = ram_in_bytes(keep_storage) if keep_storage else 0
    except ValueError as exc:
        raise CommandExit(
            125, f'invalid argument "{keep_storage}" for "--keep-storage" flag: {exc}'
        ) from None
    return {"all": True if all else None, "keep-storage": keep or None,
            "filters": json.dumps(_filters(filters), separators=(",", ":"))}  # fmt: skip


def _filters(specs: list[str]) -> dict[str, dict[str, bool]]:
    """`--filter key=value` flags in docker's map-of-sets form (opts.FilterOpt)."""
    out: dict[str, dict[str, bool]] = {}
    for spec in filter(None, specs):
        key, sep, value = spec.partition("=")
        if not sep:
            raise CommandExit(125, f'invalid argument "{spec}" for "--filter" flag: '
                                   "bad format of filter (expected name=value)")  # fmt: skip
        out.setdefault(key.strip().lower(), {})[value.strip()] = True
    return out


def prune_text(report: dict[str, Any]) -> str:
    """The "Deleted build cache objects:" list and a blank line, then the total."""
    from dockwright.cli.units import human_size

    deleted = report.get("CachesDeleted") or []
    head = "".join(["Deleted build cache objects:\n", *(f"{i}\n" for i in deleted), "\n"])
    total = human_size(int(report.get("SpaceReclaimed") or 0))
    return (head if deleted else "") + f"Total reclaimed space: {total}\n"


def _confirm(ctx: Context, message: str) -> bool:
    """prompt.Confirm: the message and " [y/N] " on one line; only "y" (any case) agrees."""
    ctx.stdout.write(f"{message} [y/N] ")
    ctx.stdout.flush()
    return ctx.stdin.readline().decode(errors="replace").strip().lower() == "y"


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
