"""/build: the legacy builder API (`docker build` with DOCKER_BUILDKIT=0). Parse, call, stream."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, Protocol

from dockwright.api.http import Request, Response, json_response
from dockwright.api.router import Route
from dockwright.api.routes.images import stream_messages
from dockwright.engine.builds import BuildOptions
from dockwright.errors import InvalidParameter, NotImplementedYet


class BuildBackend(Protocol):
    def build(
        self, chunks: AsyncIterable[bytes], opts: BuildOptions
    ) -> AsyncIterator[dict[str, Any]]: ...

    def prune_cache(self) -> dict[str, Any]: ...


def _string_map(req: Request, name: str) -> dict[str, str]:
    """`buildargs` / `labels`: a JSON object; null values (an unset --build-arg) are dropped."""
    raw = req.query.json(name, {}) or {}
    if not isinstance(raw, dict):
        raise InvalidParameter(f"invalid {name}: expected a JSON object")
    return {str(k): str(v) for k, v in raw.items() if v is not None}


def _string_list(req: Request, name: str) -> tuple[str, ...]:
    """`cachefrom`: a JSON array of image references."""
    raw = req.query.json(name, []) or []
    if not isinstance(raw, list):
        raise InvalidParameter(f"invalid {name}: expected a JSON array")
    return tuple(str(v) for v in raw)


def build_options(req: Request) -> BuildOptions:
    q = req.query
    if q.get("remote"):
        raise NotImplementedYet("building from a remote context (git or URL) is not supported yet")
    return BuildOptions(
        dockerfile=q.get("dockerfile") or "Dockerfile",
        tags=tuple(q.getall("t")),
        build_args=_string_map(req, "buildargs"),
        target=q.get("target") or "",
        no_cache=q.bool("nocache"),
        quiet=q.bool("q"),
        labels=_string_map(req, "labels"),
        remove=q.bool("rm", True),
        force_remove=q.bool("forcerm"),
        network_mode=q.get("networkmode") or "default",
        extra_hosts=tuple(h for v in q.getall("extrahosts") for h in v.split(",") if h),
        shm_size=q.int("shmsize", 0) or 0,
        cache_from=_string_list(req, "cachefrom"),
        pull=q.bool("pull"),
        platform=q.get("platform") or "",
    )


def build_routes(svc: BuildBackend) -> list[Route]:
    async def build(req: Request) -> None:
        opts = build_options(req)
        messages = svc.build(req.stream(), opts)
        await stream_messages(req, messages)  # type: ignore[arg-type]

    async def prune(req: Request) -> Response:
        return json_response(svc.prune_cache())

    return [Route("POST", "/build", build), Route("POST", "/build/prune", prune)]
