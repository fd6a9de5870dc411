"""/containers routes: parse, call the containers service, encode. No business rules here."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any, cast

from dockwright.api.http import Hijacked, Request, Response, json_response, no_content
from dockwright.api.router import Route
from dockwright.api.schema.common import parse_time, rfc3339nano
from dockwright.api.schema.containers import (
    inspect_json,
    parse_create,
    parse_resources,
    parse_restart_policy,
    summary_json,
)
from dockwright.api.schema.networks import parse_networking_config
from dockwright.api.streams import frame, json_line
from dockwright.engine.containers.detach import (
    DEFAULT_DETACH_KEYS,
    DetachScanner,
    parse_detach_keys,
)
from dockwright.engine.containers.service import ContainerService
from dockwright.engine.containers.streams import AttachSession
from dockwright.errors import InvalidParameter

RAW = "application/vnd.docker.raw-stream"
MUX = "application/vnd.docker.multiplexed-stream"


def container_routes(svc: ContainerService) -> list[Route]:
    async def create(req: Request) -> Response:
        body = await req.json()
        config, host = parse_create(body)
        endpoints = parse_networking_config(body)
        c, warnings = svc.create(req.query.get("name"), config, host, endpoints)
        return json_response({"Id": c.id, "Warnings": warnings}, status=201)

    async def list_(req: Request) -> Response:
        q = req.query
        size = q.bool("size")
        found = svc.list(
            all=q.bool("all"), limit=q.int("limit", 0) or 0, filters=req.query.filters()
        )
        return json_response([summary_json(svc.view(c, size), size) for c in found])

    async def inspect(req: Request) -> Response:
        size = req.query.bool("size")
        return json_response(inspect_json(svc.inspect(req.params["id"], size), size))

    async def start(req: Request) -> Response:
        await svc.start(req.params["id"])
        return no_content()

    async def stop(req: Request) -> Response:
        q = req.query
        await svc.stop(req.params["id"], q.int("t"), q.get("signal"))
        return no_content()

    async def restart(req: Request) -> Response:
        q = req.query
        await svc.restart(req.params["id"], q.int("t"), q.get("signal"))
        return no_content()

    async def kill(req: Request) -> Response:
        await svc.kill(req.params["id"], req.query.get("signal"))
        return no_content()

    async def pause(req: Request) -> Response:
        await svc.pause(req.params["id"])
        return no_content()

    async def unpause(req: Request) -> Response:
        await svc.unpause(req.params["id"])
        return no_content()

    async def wait(req: Request) -> None:
        # Headers go out before the wait so `docker run` can start the container meanwhile.
        future = svc.wait_future(req.params["id"], req.query.get("condition") or "")
        writer = await req.start_stream(200, "application/json")
        gone: asyncio.Future[Any] = asyncio.ensure_future(req.disconnected())
        try:
            await asyncio.wait([future, gone], return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not future.done():
            future.cancel()
            return None
        code, error = future.result()
        body = {"StatusCode": code, "Error": {"Message": error} if error else None}
        with contextlib.suppress(ConnectionError):
            await writer.write(json_line(body))
        return None

    async def remove(req: Request) -> Response:
        q = req.query
        await svc.remove(req.params["id"], force=q.bool("force"), volumes=q.bool("v"))
        return no_content()

    async def rename(req: Request) -> Response:
        name = req.query.get("name")
        if not name:
            raise InvalidParameter("name cannot be empty")
        svc.rename(req.params["id"], name)
        return no_content()

    async def update(req: Request) -> Response:
        body = await req.json() or {}
        if not isinstance(body, dict):
            raise InvalidParameter("invalid update body")
        warnings = await svc.update(
            req.params["id"], parse_resources(body), parse_restart_policy(body.get("RestartPolicy"))
        )
        return json_response({"Warnings": warnings})

    async def prune(req: Request) -> Response:
        removed = await svc.prune(req.query.filters())
        return json_response({"ContainersDeleted": removed or None, "SpaceReclaimed": 0})

    async def resize(req: Request) -> Response:
        q = req.query
        await svc.resize(req.params["id"], q.int("h", 0) or 0, q.int("w", 0) or 0)
        return Response(200)

    async def logs(req: Request) -> None:
        q = req.query
        c, records = svc.logs(
            req.params["id"],
            stdout=q.bool("stdout"),
            stderr=q.bool("stderr"),
            follow=q.bool("follow"),
            tail=_tail(q.get("tail")),
            since=parse_time(q.get("since")),
            until=parse_time(q.get("until")),
        )
        tty, stamps = c.config.tty, q.bool("timestamps")
        writer = await req.start_stream(200, RAW if tty else MUX)
        gone = asyncio.ensure_future(req.disconnected())
        try:
            async for stream, ts, data in records:
                if gone.done():
                    break
                if stamps:
                    data = rfc3339nano(ts).encode() + b" " + data
                await writer.write(data if tty else frame(stream, data))
        except ConnectionError:
            pass
        finally:
            gone.cancel()
            await cast(AsyncGenerator[Any, None], records).aclose()
        return None

    async def attach(req: Request) -> None:
        q = req.query
        keys = parse_detach_keys(q.get("detachKeys") or DEFAULT_DETACH_KEYS)
        stdout, stderr = q.bool("stdout"), q.bool("stderr")
        c, session = await svc.attach(req.params["id"], stdout=stdout, stderr=stderr)
        conn = await req.hijack(RAW if c.config.tty else MUX)
        try:
            if q.bool("logs") and (stdout or stderr):
                await _replay_logs(conn, c.id, stdout, stderr, c.config.tty)
            if q.bool("stream"):
                await pump(conn, session, stdin=q.bool("stdin"), keys=keys)
        finally:
            await session.close()
            await conn.close()
        return None

    async def _replay_logs(conn: Hijacked, cid: str, stdout: bool, stderr: bool, tty: bool) -> None:
        """attach?logs=1: what the container already wrote, before the live stream."""
        _, records = svc.logs(
            cid, stdout=stdout, stderr=stderr, follow=False, tail=None, since=0, until=0
        )
        async for stream, _ts, data in records:
            await conn.write(data if tty else frame(stream, data))

    return [
        Route("POST", "/containers/create", create),
        Route("GET", "/containers/json", list_),
        Route("POST", "/containers/prune", prune),
        Route("GET", "/containers/{id}/json", inspect),
        Route("POST", "/containers/{id}/start", start),
        Route("POST", "/containers/{id}/stop", stop),
        Route("POST", "/containers/{id}/restart", restart),
        Route("POST", "/containers/{id}/kill", kill),
        Route("POST", "/containers/{id}/pause", pause),
        Route("POST", "/containers/{id}/unpause", unpause),
        Route("POST", "/containers/{id}/wait", wait),
        Route("DELETE", "/containers/{id}", remove),
        Route("POST", "/containers/{id}/rename", rename),
        Route("POST", "/containers/{id}/update", update),
        Route("POST", "/containers/{id}/resize", resize),
        Route("GET", "/containers/{id}/logs", logs),
        Route("POST", "/containers/{id}/attach", attach),
    ]


def _tail(value: str | None) -> int | None:
    if value is None or value in ("", "all"):
        return None
    try:
        return max(int(value), 0)
    except ValueError:
        raise InvalidParameter(f"invalid tail value: {value}") from None


async def pump(conn: Hijacked, session: AttachSession, *, stdin: bool, keys: bytes) -> None:
    """Copy container output to the client and client input to the container until either ends."""
    out = asyncio.ensure_future(_copy_out(conn, session))
    tasks = {out}
    if stdin:
        tasks.add(asyncio.ensure_future(_copy_in(conn, session, keys)))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if out not in done and not _detached(done):
            await out  # stdin ended: keep streaming output until the container is done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _detached(done: set[asyncio.Task[str]]) -> bool:
    return any(
        not t.cancelled() and t.exception() is None and t.result() == "detached" for t in done
    )


async def _copy_out(conn: Hijacked, session: AttachSession) -> str:
    while True:
        stream, data = await session.read()
        if not data:
            return "eof"
        payload = data if session.tty else frame(stream, data)
        try:
            await conn.write(payload)
        except ConnectionError:
            return "gone"


async def _copy_in(conn: Hijacked, session: AttachSession, keys: bytes) -> str:
    scanner = DetachScanner(keys)
    while True:
        data = await conn.read(65536)
        if not data:
            await session.close_stdin()
            return "eof"
        forward = scanner.feed(data)
        if forward:
            await session.write(forward)
        if scanner.detached:
            return "detached"
