"""`ps` (container ls): list containers as docker prints them."""

from __future__ import annotations

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed

TYPE_CHECKING = False  # hot path: typing and collections are imported only for the checker
if TYPE_CHECKING:
    from typing import Any


def parse_filters(specs: list[str]) -> dict[str, dict[str, bool]]:
    """`-f key=value` flags → the API's filters object (docker's map-of-sets form)."""
    out: dict[str, dict[str, bool]] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep:
            raise CommandExit(
                125,
                f"bad format of filter (expected name=value)\n"
                f'invalid argument "{spec}" for "-f, --filter" flag',
            )
        out.setdefault(key.strip().lower(), {})[value] = True
    return out


def list_params(p: Parsed, format_str: str) -> dict[str, Any]:
    limit = p.opts["last"]
    if p.opts["latest"] and limit == -1:
        limit = 1
    return {
        "all": True if p.opts["all"] else None,
        "limit": limit if limit != -1 else None,
        "size": True if p.opts["size"] or ".Size" in format_str else None,
        "filters": parse_filters(p.opts["filter"]) or None,
    }


def choose_format(p: Parsed) -> str:
    from dockwright.cli.views import PS_TABLE

    fmt: str = p.opts["format"]
    if p.opts["quiet"]:
        return "{{.ID}}"
    if fmt.strip() in ("", "table"):
        return PS_TABLE + ("\t{{.Size}}" if p.opts["size"] else "")
    return "{{json .}}" if fmt.strip() == "json" else fmt


def ps(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.formatter import render_items
    from dockwright.cli.views import PS_HEADER, ContainerView

    if p.opts["quiet"] and p.opts["format"]:
        ctx.err("WARNING: Ignoring custom format, because both --format and --quiet are set.")
    fmt = choose_format(p)
    containers = ctx.client.get("/containers/json", list_params(p, fmt)) or []
    trunc = not p.opts["no_trunc"]
    views = [ContainerView(c, trunc) for c in containers]
    ctx.stdout.write(render_items(fmt, views, PS_HEADER))
    return 0
