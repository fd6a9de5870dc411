"""/images routes: parse, call the image service, encode. No business rules here.

The routes talk to a narrow `ImageBackend` (engine.images.ImageService implements it), so the API
package does not import the engine's image stack, only its shape.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any, Protocol

from dockwright.api.http import Request, Response, json_response
from dockwright.api.router import Route
from dockwright.api.streams import json_line
from dockwright.errors import DockwrightError, InvalidParameter

log = logging.getLogger(__name__)


class ImageBackend(Protocol):
    def list(
        self,
        all: bool = False,
        filters: dict[str, list[str]] | None = None,
        shared_size: bool = False,
    ) -> builtins.list[dict[str, Any]]: ...

    def inspect(self, name: str) -> dict[str, Any]: ...

    def history(self, name: str) -> builtins.list[dict[str, Any]]: ...

    def tag(self, name: str, repo: str | None, tag: str | None) -> None: ...

    async def remove(
        self, name: str, force: bool = False, noprune: bool = False
    ) -> builtins.list[dict[str, str]]: ...

    async def import_image(
        self,
        chunks: AsyncIterable[bytes],
        repo: str | None = None,
        tag: str | None = None,
        changes: builtins.list[str] | None = None,
        message: str = "",
        source: str = "-",
    ) -> str: ...

    def pull(
        self,
        image: str,
        tag: str | None = None,
        platform: str | None = None,
        auth: str | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]: ...

    def push(
        self, name: str, tag: str | None = None, auth: str | None = None
    ) -> AsyncGenerator[dict[str, Any], None]: ...

    async def login(self, body: object) -> dict[str, str]: ...

    def save(self, names: builtins.list[str]) -> AsyncGenerator[bytes, None]: ...

    async def commit(
        self,
        container: str,
        repo: str | None = None,
        tag: str | None = None,
        comment: str = "",
        author: str = "",
        changes: builtins.list[str] | None = None,
        pause: bool = True,
    ) -> str: ...

    async def load(self, chunks: AsyncIterable[bytes]) -> builtins.list[str]: ...

    async def prune(self, filters: dict[str, builtins.list[str]]) -> dict[str, Any]: ...


async def stream_bytes(
    req: Request, chunks: AsyncGenerator[bytes, None], content_type: str
) -> None:
    """A binary download; errors before the first chunk get their HTTP status."""
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = b""
    try:
        w = await req.start_stream(content_type=content_type)
        await w.write(first)
        async for data in chunks:
            await w.write(data)
    except ConnectionError:
        pass
    finally:
        await chunks.aclose()


async def stream_messages(req: Request, messages: AsyncGenerator[dict[str, Any], None]) -> None:
    """Docker's JSON progress stream. An error before the first message is raised (the server
    answers with its status); later errors become an errorDetail line, as dockerd does."""
    try:
        first = await anext(messages)
    except StopAsyncIteration:
        first = None
    w = await req.start_stream()
    try:
        if first is not None:
            await w.write(json_line(first))
        async for msg in messages:
            await w.write(json_line(msg))
    except ConnectionError:
        pass  # the client went away: closing the iterator cancels the transfer
    except Exception as exc:  # noqa: BLE001 - reported in the stream, the status is sent
        if not isinstance(exc, DockwrightError):
            log.exception("transfer failed")
        text = exc.message if isinstance(exc, DockwrightError) else str(exc)
        try:
            await w.write(json_line({"errorDetail": {"message": text}, "error": text}))
        except ConnectionError:
            pass
    finally:
        await messages.aclose()


def _versioned_summary(item: dict[str, Any], version: tuple[int, int]) -> dict[str, Any]:
    """VirtualSize went away in API 1.44."""
    return {**item, "VirtualSize": item["Size"]} if version < (1, 44) else item


def image_routes(svc: ImageBackend) -> list[Route]:
    async def list_(req: Request) -> Response:
        q = req.query
        found = svc.list(
            all=q.bool("all"), filters=req.query.filters(), shared_size=q.bool("shared-size")
        )
        return json_response([_versioned_summary(i, req.version) for i in found])

    async def create(req: Request) -> Response | None:
        q = req.query
        if q.get("fromImage"):
            auth = req.headers.get("X-Registry-Auth")
            messages = svc.pull(str(q.get("fromImage")), q.get("tag"), q.get("platform"), auth)
            await stream_messages(req, messages)
            return None
        source = q.get("fromSrc")
        if not source:
            raise InvalidParameter("either fromImage or fromSrc must be given")
        image_id = await svc.import_image(
            req.stream(), q.get("repo"), q.get("tag"), q.getall("changes"), q.get("message") or "",
            source,
        )  # fmt: skip
        return Response(200, json_line({"status": image_id}), "application/json")

    async def inspect(req: Request) -> Response:
        body = svc.inspect(req.params["name"])
        if req.version < (1, 44):
            body["VirtualSize"] = body["Size"]
        return json_response(body)

    async def history(req: Request) -> Response:
        return json_response(svc.history(req.params["name"]))

    async def tag(req: Request) -> Response:
        svc.tag(req.params["name"], req.query.get("repo"), req.query.get("tag"))
        return Response(201)

    async def remove(req: Request) -> Response:
        q = req.query
        records = await svc.remove(req.params["name"], q.bool("force"), q.bool("noprune"))
        return json_response(records)

    async def push(req: Request) -> None:
        auth = req.headers.get("X-Registry-Auth")
        await stream_messages(req, svc.push(req.params["name"], req.query.get("tag"), auth))

    async def login(req: Request) -> Response:
        return json_response(await svc.login(await req.json()))

    async def commit(req: Request) -> Response:
        q = req.query
        container = q.get("container")
        if not container:
            raise InvalidParameter("container is required")
        image_id = await svc.commit(
            container, q.get("repo"), q.get("tag"), q.get("comment") or "", q.get("author") or "",
            q.getall("changes"), q.bool("pause", True),
        )  # fmt: skip
        return json_response({"Id": image_id}, 201)

    async def save_many(req: Request) -> None:
        await stream_bytes(req, svc.save(req.query.getall("names")), "application/x-tar")

    async def save_one(req: Request) -> None:
        await stream_bytes(req, svc.save([req.params["name"]]), "application/x-tar")

    async def load(req: Request) -> Response:
        lines = await svc.load(req.stream())
        body = b"".join(json_line({"stream": line + "\n"}) for line in lines)
        return Response(200, body, "application/json")

    async def prune(req: Request) -> Response:
        return json_response(await svc.prune(req.query.filters()))

    return [
        Route("GET", "/images/json", list_),
        Route("POST", "/images/prune", prune, (1, 25)),
        Route("GET", "/images/get", save_many),
        Route("POST", "/images/load", load),
        Route("GET", "/images/{name:path}/get", save_one),
        Route("POST", "/images/{name:path}/push", push),
        Route("POST", "/auth", login),
        Route("POST", "/commit", commit),
        Route("POST", "/images/create", create),
        Route("GET", "/images/{name:path}/json", inspect),
        Route("GET", "/images/{name:path}/history", history),
        Route("POST", "/images/{name:path}/tag", tag),
        Route("DELETE", "/images/{name:path}", remove),
    ]
