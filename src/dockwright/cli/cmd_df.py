"""`system df [-v] [--format]`: disk usage from `GET /system/df`, printed as docker prints it."""

from __future__ import annotations

import time

from dockwright.cli.context import Context
from dockwright.cli.flags import Parsed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def verbose_text(du: dict[str, Any], now: float) -> str:
    """The four `-v` sections: a title, then a table (its header even when empty)."""
    from dockwright.cli import dfviews as v
    from dockwright.cli.formatter import render_items
    from dockwright.cli.units import human_size
    from dockwright.cli.views import IMAGES_HEADER, PS_HEADER

    cache = v.cache_views(du, now)
    volumes = [v.VolumeView(x) for x in du.get("Volumes") or []]
    return "".join(
        [
            "Images space usage:\n\n",
            render_items(v.IMAGE_TABLE, v.image_views(du, now), IMAGES_HEADER),
            "\nContainers space usage:\n\n",
            render_items(v.CONTAINER_TABLE, v.container_views(du, now), PS_HEADER),
            "\nLocal Volumes space usage:\n\n",
            render_items(v.VOLUME_TABLE, volumes, v.VOLUME_HEADER),
            f"\nBuild cache usage: {human_size(v.builder_size(du))}\n\n",
            render_items(v.CACHE_TABLE, cache, v.CACHE_HEADER),
        ]
    )


def df(ctx: Context, p: Parsed) -> int:
    from dockwright.cli import dfviews
    from dockwright.cli.formatter import is_table, render_items, render_one, resolve

    du = ctx.client.get("/system/df") or {}
    fmt = p.opts["format"]
    if p.opts["verbose"] and (not fmt.strip() or fmt.strip() == "table"):
        ctx.stdout.write(verbose_text(du, time.time()))
        return 0
    if p.opts["verbose"] and not is_table(fmt):
        data = dfviews.verbose_json(du, time.time())
        ctx.stdout.write(render_one(resolve(fmt, ""), data)[:-1])  # docker adds no newline
        return 0
    rows = dfviews.summary_rows(du)
    ctx.stdout.write(render_items(resolve(fmt, dfviews.DF_TABLE), rows, dfviews.DF_HEADER))
    return 0
