"""/build: the legacy builder API (`docker build` with DOCKER_BUILDKIT=0). Parse, call, stream.

dockwright extensions (the docker CLI never sends them):
- build secrets in the `X-Dockwright-Build-Secrets` request header (types/buildsecrets.py has
  the format and its size limits, set by the HTTP reader's 1 MiB limit on the request head);
- `GET /build/cache-mounts` (the `RUN --mount=type=cache` directories with their sizes),
  `GET /build/cache-mounts/export[?id=…]` (a tar of those caches, all when no id) and
  `POST /build/cache-mounts/import` (such a tar as the body), for CI runners.
`POST /build/prune` also removes the idle cache mounts, as `docker builder prune` does
(engine/builds/usage.py says what it removes and why that is `system df`'s RECLAIMABLE).
`remote=` (a git repository or an http(s) URL) is fetched by the daemon, as dockerd does
(engine/builds/remote.py); the request body is then not read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from dockwright.api.http import Request, Response, json_response
from dockwright.api.router import Route
from dockwright.api.routes.images import stream_bytes, stream_messages
from dockwright.api.schema.common import rfc3339nano
from dockwright.engine.builds import BuildOptions
from dockwright.engine.builds.cachemounts import CacheMounts
from dockwright.engine.builds.prunefilter import parse_keep_storage
from dockwright.engine.builds.remote import remote_build
from dockwright.errors import InvalidParameter
from dockwright.types import buildsecrets, buildssh, buildsync


class _Cache(Protocol):
    @property
    def mounts(self) -> CacheMounts: ...


class BuildBackend(Protocol):
    def build(
        self, chunks: AsyncIterable[bytes], opts: BuildOptions
    ) -> AsyncIterator[dict[str, Any]]: ...

    async def prune_cache(self, all: bool = False, filters: dict[str, list[str]] | None = None,
                          keep_storage: int = 0) -> dict[str, Any]: ...  # fmt: skip

    @property
    def cache(self) -> _Cache: ...

    @property
    def scratch_root(self) -> Path | None: ...


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
        secrets=buildsecrets.decode(req.headers.get(buildsecrets.HEADER)),
        ssh=buildssh.decode(req.headers.get(buildssh.HEADER)),
        context_session=req.headers.get(buildsync.HEADER) or "",
    )


def build_routes(svc: BuildBackend) -> list[Route]:
    async def build(req: Request) -> None:
        opts = build_options(req)
        remote = req.query.get("remote") or ""
        if remote:  # the daemon fetches the context; a body, if any, is not read
            messages = remote_build(remote, opts, svc.scratch_root, svc.build)
        else:
            messages = svc.build(req.stream(), opts)
        await stream_messages(req, messages)  # type: ignore[arg-type]

    async def prune(req: Request) -> Response:
        keep = parse_keep_storage(req.query.get("keep-storage"))  # API 1.45: no reserved-space
        report = await svc.prune_cache(req.query.bool("all"), req.query.filters(), keep)
        return json_response(report)

    async def cache_mounts(req: Request) -> Response:
        found = await asyncio.to_thread(svc.cache.mounts.entries)
        return json_response(
            [{"ID": f.id, "Size": f.size, "LastUsedAt": rfc3339nano(f.last_used)} for f in found]
        )

    async def export(req: Request) -> None:
        chunks = svc.cache.mounts.export_tar(req.query.getall("id"))
        await stream_bytes(req, chunks, "application/x-tar")  # type: ignore[arg-type]

    async def import_(req: Request) -> Response:
        ids = await svc.cache.mounts.import_tar(req.stream())
        return json_response({"Imported": ids})

    return [
        Route("POST", "/build", build),
        Route("POST", "/build/prune", prune),
        Route("GET", "/build/cache-mounts", cache_mounts),
        Route("GET", "/build/cache-mounts/export", export),
        Route("POST", "/build/cache-mounts/import", import_),
    ]
