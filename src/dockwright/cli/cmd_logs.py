"""`logs`: the container's log stream, demultiplexed unless the container has a TTY."""

from __future__ import annotations

import time

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.errors import InvalidParameter

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from typing import Any

RAW = "application/vnd.docker.raw-stream"
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"


def logs_params(p: Parsed, now: float) -> dict[str, Any]:
    from dockwright.cli.timefmt import get_timestamp

    o = p.opts
    try:
        since = get_timestamp(o["since"], now)
        until = get_timestamp(o["until"], now)
    except InvalidParameter as exc:
        raise CommandExit(1, str(exc)) from None
    return {
        "stdout": True,
        "stderr": True,
        "since": since or None,
        "until": until or None,
        "timestamps": True if o["timestamps"] else None,
        "follow": True if o["follow"] else None,
        "tail": o["tail"],
        "details": True if o["details"] else None,
    }


def logs(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.session import local_streams
    from dockwright.client.frames import STDERR, demux

    name = p.args[0]
    params = logs_params(p, time.time())
    resp = ctx.client.request("GET", f"/containers/{name}/logs", params)
    content_type = resp.head.get("content-type") or ""
    if content_type.startswith(RAW):
        tty = True
    elif content_type.startswith(MULTIPLEXED):
        tty = False
    else:
        tty = bool((ctx.client.get(f"/containers/{name}/json").get("Config") or {}).get("Tty"))
    streams = local_streams(ctx, False)
    chunks = resp.iter_chunks()
    try:
        if tty:
            for chunk in chunks:
                streams.out(chunk)
        else:
            for stream, data in demux(chunks):
                (streams.err if stream == STDERR else streams.out)(data)
    finally:
        resp.close()
    return 0
