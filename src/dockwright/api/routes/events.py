"""GET /events: past events from the ring (since), then live ones until `until` or disconnect."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from dockwright.api.http import Request, StreamWriter
from dockwright.api.router import Route
from dockwright.api.schema.common import parse_time
from dockwright.api.streams import json_line
from dockwright.engine.events import Event, EventBus
from dockwright.errors import InvalidParameter

EVENT_FILTERS = (
    "container",
    "event",
    "image",
    "label",
    "type",
    "network",
    "volume",
    "daemon",
    "scope",
)


def event_json(e: Event) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Type": e.kind,
        "Action": e.action,
        "Actor": {"ID": e.actor_id, "Attributes": e.attributes},
        "scope": e.scope,
        "time": e.time_nano // 1_000_000_000,
        "timeNano": e.time_nano,
    }
    if e.kind == "container":  # the pre-1.22 fields the docker CLI still reads
        out.update(status=e.action, id=e.actor_id, **{"from": e.attributes.get("image", "")})
    return out


def event_matches(e: Event, filters: dict[str, list[str]]) -> bool:
    tests = {
        "type": lambda v: e.kind == v,
        "event": lambda v: e.action == v or e.action.split(":")[0] == v,
        "container": lambda v: (
            e.kind == "container" and (e.actor_id.startswith(v) or e.attributes.get("name") == v)
        ),
        "image": lambda v: (
            (e.kind == "image" and (e.actor_id == v or e.actor_id.startswith(v)))
            or e.attributes.get("image") == v
        ),
        "label": lambda v: _label(e.attributes, v),
        "scope": lambda v: e.scope == v,
    }
    for key, values in filters.items():
        test = tests.get(key)
        if test is not None and not any(test(v) for v in values):
            return False
    return True


def _label(attributes: dict[str, str], expr: str) -> bool:
    key, sep, value = expr.partition("=")
    return key in attributes and (not sep or attributes[key] == value)


def event_routes(bus: EventBus) -> list[Route]:
    async def events(req: Request) -> None:
        filters = req.query.filters()
        for key in filters:
            if key not in EVENT_FILTERS:
                raise InvalidParameter(f"invalid filter '{key}'")
        raw_since = req.query.get("since")
        since = parse_time(raw_since) if raw_since else None
        until = parse_time(req.query.get("until"))
        queue = bus.open_subscription()
        try:
            writer = await req.start_stream(200, "application/json")
            await _stream(req, writer, bus, queue, filters, since, until)
        finally:
            bus.close_subscription(queue)
        return None

    return [Route("GET", "/events", events)]


async def _stream(
    req: Request,
    writer: StreamWriter,
    bus: EventBus,
    queue: asyncio.Queue[Event],
    filters: dict[str, list[str]],
    since: float | None,
    until: float,
) -> None:
    until_ns = int(until * 1e9) if until else None
    if since is not None:  # since=0 replays everything still in the ring
        for e in bus.history(int(since * 1e9), until_ns):
            if event_matches(e, filters):
                await writer.write(json_line(event_json(e)))
    if until and until <= time.time():
        return
    gone = asyncio.ensure_future(req.disconnected())
    try:
        while not gone.done():
            timeout = (until - time.time()) if until else None
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait(
                {getter, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                return
            e = getter.result()
            if event_matches(e, filters):
                with contextlib.suppress(ConnectionError):
                    await writer.write(json_line(event_json(e)))
    finally:
        gone.cancel()
