"""`POST /build/context`: step 1 of a context sync (engine/builds/ctxsync.py has the protocol).

A dockwright extension the docker CLI never sends; `dockwright build` uses it for directory
contexts and falls back to a whole upload when a daemon answers 404.
"""

from __future__ import annotations

from typing import Any, Protocol

from dockwright.api.http import Request, Response, json_response
from dockwright.api.router import Route
from dockwright.types import buildsync


class ContextOffers(Protocol):
    async def offer_body(self, body: Any) -> tuple[str, list[str]]: ...


def build_sync_routes(contexts: ContextOffers) -> list[Route]:
    async def offer(req: Request) -> Response:
        session, missing = await contexts.offer_body(await req.json())
        return json_response({"Session": session, "Missing": missing})

    return [Route("POST", buildsync.OFFER_PATH, offer)]
