"""/images routes: parse, call the image service, encode. No business rules here.

The routes talk to a narrow `ImageBackend` (engine.images.ImageService implements it), so the API
package does not import the engine's image stack, only its shape.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterable
from typing import Any, Protocol

from dockwright.api.http import Request, Response, json_response
from dockwright.api.router import Route
from dockwright.api.streams import json_line
from dockwright.errors import InvalidParameter, NotImplementedYet


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


def _filters(req: Request) -> dict[str, list[str]]:
    """Docker's `filters` JSON: {"key": ["v"]} or the old {"key": {"v": true}} form."""
    raw = req.query.json("filters", {}) or {}
    if not isinstance(raw, dict):
        raise InvalidParameter("invalid filters: expected a JSON object")
    out: dict[str, list[str]] = {}
    for key, values in raw.items():
        if isinstance(values, dict):
            out[key] = [k for k, on in values.items() if on]
        elif isinstance(values, list):
            out[key] = [str(v) for v in values]
        else:
            out[key] = [str(values)]
    return out


def _versioned_summary(item: dict[str, Any], version: tuple[int, int]) -> dict[str, Any]:
    """VirtualSize went away in API 1.44."""
    return {**item, "VirtualSize": item["Size"]} if version < (1, 44) else item


def image_routes(svc: ImageBackend) -> list[Route]:
    async def list_(req: Request) -> Response:
        q = req.query
        found = svc.list(
            all=q.bool("all"), filters=_filters(req), shared_size=q.bool("shared-size")
        )
        return json_response([_versioned_summary(i, req.version) for i in found])

    async def create(req: Request) -> Response:
        q = req.query
        if q.get("fromImage"):
            raise NotImplementedYet(
                f"pulling images is not implemented yet: cannot pull {q.get('fromImage')}; "
                "import a root filesystem with fromSrc=- instead"
            )
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

    return [
        Route("GET", "/images/json", list_),
        Route("POST", "/images/create", create),
        Route("GET", "/images/{name:path}/json", inspect),
        Route("GET", "/images/{name:path}/history", history),
        Route("POST", "/images/{name:path}/tag", tag),
        Route("DELETE", "/images/{name:path}", remove),
    ]
