"""/containers/{id} routes for files and usage: top, changes, export, archive, stats."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from dockwright.api.http import JSON, Request, Response, StreamWriter, json_response
from dockwright.api.router import Route
from dockwright.api.schema.common import rfc3339nano
from dockwright.api.schema.stats import stats_json
from dockwright.api.streams import json_line
from dockwright.engine.containers import fsops
from dockwright.engine.containers import stats as usage
from dockwright.engine.containers.archive import PathStat
from dockwright.engine.containers.service import ContainerService
from dockwright.errors import InvalidParameter

TAR = "application/x-tar"
STAT_HEADER = "X-Docker-Container-Path-Stat"


def stat_header(st: PathStat) -> str:
    """Docker's ContainerPathStat as the base64 JSON carried in X-Docker-Container-Path-Stat."""
    doc = {
        "name": st.name,
        "size": st.size,
        "mode": st.mode,
        "mtime": rfc3339nano(st.mtime),
        "linkTarget": st.link_target,
    }
    return base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def _path(req: Request) -> str:
    path = req.query.get("path")
    if not path:
        raise InvalidParameter("bad parameter: path cannot be empty")
    return path


async def _send(chunks: AsyncIterator[bytes], writer: StreamWriter) -> None:
    async for chunk in chunks:
        await writer.write(chunk)


def container_fs_routes(svc: ContainerService) -> list[Route]:
    async def top(req: Request) -> Response:
        found = await usage.top(svc, req.params["id"], req.query.get("ps_args") or "")
        return json_response({"Titles": found.titles, "Processes": found.processes or None})

    async def changes(req: Request) -> Response:
        found = await fsops.changes(svc, req.params["id"])
        return json_response([{"Path": p, "Kind": k} for k, p in found] or None)

    async def export(req: Request) -> None:
        async with fsops.export(svc, req.params["id"]) as chunks:
            await _send(chunks, await req.start_stream(200, TAR))

    async def archive_head(req: Request) -> Response:
        found = await fsops.stat_path(svc, req.params["id"], _path(req))
        return Response(200, headers={STAT_HEADER: stat_header(found)})

    async def archive_get(req: Request) -> None:
        async with fsops.archive(svc, req.params["id"], _path(req)) as (found, chunks):
            writer = await req.start_stream(200, TAR, {STAT_HEADER: stat_header(found)})
            await _send(chunks, writer)

    async def archive_put(req: Request) -> Response:
        q = req.query
        await fsops.extract(
            svc,
            req.params["id"],
            _path(req),
            req.stream(),
            no_overwrite=q.bool("noOverwriteDirNonDir"),
            copy_uid_gid=q.bool("copyUIDGID"),
        )
        return Response(200)

    async def stats(req: Request) -> Response | None:
        q = req.query
        stream = q.bool("stream", True)
        frames = usage.stats(svc, req.params["id"], stream=stream, one_shot=q.bool("one-shot"))
        try:
            first = stats_json(await anext(frames))
            if not stream:
                return json_response(first)
            writer = await req.start_stream(200, JSON)
            await _stream_stats(req, writer, first, frames)
        finally:
            await frames.aclose()
        return None

    return [
        Route("GET", "/containers/{id}/top", top),
        Route("GET", "/containers/{id}/changes", changes),
        Route("GET", "/containers/{id}/export", export),
        Route("HEAD", "/containers/{id}/archive", archive_head),
        Route("GET", "/containers/{id}/archive", archive_get),
        Route("PUT", "/containers/{id}/archive", archive_put),
        Route("GET", "/containers/{id}/stats", stats),
    ]


async def _stream_stats(
    req: Request, writer: StreamWriter, first: dict[str, Any], frames: AsyncIterator[Any]
) -> None:
    """Write a record a second until the client leaves or the container is removed."""
    gone = asyncio.ensure_future(req.disconnected())
    try:
        await writer.write(json_line(first))
        async for frame in frames:
            if gone.done():
                return
            await writer.write(json_line(stats_json(frame)))
    except ConnectionError:
        return
    finally:
        gone.cancel()
