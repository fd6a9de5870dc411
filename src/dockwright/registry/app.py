"""The registry application: route table, authentication, read-only mode, error responses.

`RegistryApp.handle` is the `http.Handler`: it authenticates, finds the route, runs the
handler and turns a `RegistryError` into the spec's JSON error body. Every response carries
`Docker-Distribution-API-Version: registry/2.0`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from dockwright.registry import routes_blobs as blobs
from dockwright.registry import routes_manifests as manifests
from dockwright.registry.access import TokenAuth, required_access
from dockwright.registry.core import Stores, json_response
from dockwright.registry.errors import RegistryError
from dockwright.registry.http import ClientGone, Request, Response
from dockwright.registry.metrics import Metrics
from dockwright.registry.names import check_digest, check_name, check_reference
from dockwright.registry.proxy import PullThrough
from dockwright.registry.tokens import Access


class Authenticator(Protocol):
    """Raises UNAUTHORIZED (with a challenge) or DENIED unless `req` may have `need`."""

    async def check(self, req: Request, need: list[Access]) -> None: ...


logger = logging.getLogger("dockwright.registry")

API_VERSION = ("Docker-Distribution-API-Version", "registry/2.0")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

RouteHandler = Callable[[Stores, Request, dict[str, str]], Awaitable[Response]]


async def _base(s: Stores, req: Request, m: dict[str, str]) -> Response:
    return json_response(200, {})


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: RouteHandler
    label: str


def _route(methods: str, pattern: str, handler: RouteHandler, label: str) -> Route:
    return Route(frozenset(methods.split()), re.compile(f"^{pattern}$"), handler, label)


_N = r"/v2/(?P<name>.+)"
ROUTES: tuple[Route, ...] = (
    _route("GET HEAD", r"/v2/?", _base, "base"),
    _route("GET HEAD", r"/v2/_catalog", manifests.catalog, "catalog"),
    _route("GET HEAD", _N + r"/tags/list", manifests.tags_list, "tags"),
    _route("GET HEAD", _N + r"/manifests/(?P<ref>[^/]+)", manifests.manifest_get, "manifest"),
    _route("PUT", _N + r"/manifests/(?P<ref>[^/]+)", manifests.manifest_put, "manifest"),
    _route("DELETE", _N + r"/manifests/(?P<ref>[^/]+)", manifests.manifest_delete, "manifest"),
    _route("POST", _N + r"/blobs/uploads/?", blobs.upload_start, "upload"),
    _route("PATCH", _N + r"/blobs/uploads/(?P<uuid>[^/]+)", blobs.upload_patch, "upload"),
    _route("PUT", _N + r"/blobs/uploads/(?P<uuid>[^/]+)", blobs.upload_put, "upload"),
    _route("GET", _N + r"/blobs/uploads/(?P<uuid>[^/]+)", blobs.upload_get, "upload"),
    _route("DELETE", _N + r"/blobs/uploads/(?P<uuid>[^/]+)", blobs.upload_delete, "upload"),
    _route("GET HEAD", _N + r"/blobs/(?P<digest>[^/]+)", blobs.blob_get, "blob"),
    _route("DELETE", _N + r"/blobs/(?P<digest>[^/]+)", blobs.blob_delete, "blob"),
    _route("GET", _N + r"/referrers/(?P<digest>[^/]+)", manifests.referrers, "referrers"),
)


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a request, with its path parameters; None when nothing matches."""
    for route in ROUTES:
        if method in route.methods and (m := route.pattern.match(path)):
            return route, m.groupdict()
    return None


class RegistryApp:
    """Routes requests to handlers over one set of stores."""

    def __init__(
        self,
        stores: Stores,
        *,
        auth: Authenticator | None = None,
        read_only: bool = False,
        proxy: PullThrough | None = None,
    ) -> None:
        self.stores = stores
        self.auth = auth
        self.read_only = read_only
        self.proxy = proxy
        self.metrics = Metrics()

    async def handle(self, req: Request) -> Response:
        label = "other"
        try:
            label, response = await self._dispatch(req)
        except RegistryError as exc:
            response = _error(exc)
        except ClientGone:
            raise  # nobody to answer: the server closes the connection
        except Exception:
            logger.exception("registry handler failed: %s %s", req.method, req.path)
            response = json_response(
                500, {"errors": [{"code": "UNKNOWN", "message": "internal error"}]}
            )
        response.headers.append(API_VERSION)
        self.metrics.observe(req.method, label, response)
        return response

    async def _dispatch(self, req: Request) -> tuple[str, Response]:
        if isinstance(self.auth, TokenAuth) and req.path == "/token" and req.method == "GET":
            return "token", await self.auth.token(req)
        found = find_route(req.method, req.path)
        if found is None:
            await self._authorize(req, [])
            if req.path == "/metrics" and req.method == "GET":
                return "metrics", self.metrics.response(self.stores)
            raise RegistryError("UNSUPPORTED", f"no route for {req.method} {req.path}", status=404)
        route, params = found
        if "name" in params:  # names go into auth scopes and challenges: check them first
            check_name(params["name"])
        if req.query.get("from"):
            check_name(req.query["from"])
        await self._authorize(req, required_access(req.method, route.label, params, req.query))
        if self.read_only and req.method in WRITE_METHODS:
            raise RegistryError("UNSUPPORTED", "registry is read-only", status=405)
        if self.proxy is not None and self.proxy.match(params.get("name", "")):
            await self._pull_through(self.proxy, req, route.label, params)
        return route.label, await route.handler(self.stores, req, params)

    async def _pull_through(
        self, proxy: PullThrough, req: Request, label: str, params: dict[str, str]
    ) -> None:
        """Fill the cache for a proxied repository before the ordinary handler runs."""
        if req.method in WRITE_METHODS:
            raise RegistryError("UNSUPPORTED", "proxied repositories are read-only", status=405)
        name = check_name(params["name"])
        if label == "manifest":
            await proxy.manifest(name, check_reference(params["ref"]), req.header("accept"))
        elif label == "blob":
            await proxy.blob(name, check_digest(params["digest"]))

    async def _authorize(self, req: Request, need: list[Access]) -> None:
        if self.auth is not None:
            await self.auth.check(req, need)


def _error(exc: RegistryError) -> Response:
    headers = [("Content-Type", "application/json"), *exc.headers]
    if exc.status == 416 and isinstance(exc.detail, dict) and "size" in exc.detail:
        headers.append(("Content-Range", f"bytes */{exc.detail['size']}"))
    return Response(exc.status, headers, exc.body())


__all__ = ["ROUTES", "RegistryApp", "find_route"]
