"""The route table: (method, pattern) -> handler, matched with precompiled regexes.

Pattern syntax: `{name}` is one path segment, `{name:path}` is one or more segments (image
names with slashes). A path parameter is greedy but backtracks, so `/images/{name:path}/json`
gives name=`localhost:5000/a/b:tag` for `/images/localhost:5000/a/b:tag/json`.

Lookup order: exact (parameter-free) patterns via a dict, then the patterns that share the
path's first segment in registration order (one-segment parameters before `:path` ones). HEAD
falls back to GET. Unknown path -> NotFound("page not found"); known path, other method ->
MethodNotAllowed (405).

Versions (Docker's version middleware, pure): `split_version` strips a `/v1.NN` prefix (none
means 1.45) and `check_version` enforces [1.24, 1.45] and a route's `min_version`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from dockwright.api.http import Request, Response
from dockwright.errors import DockwrightError, InvalidParameter, NotFound
from dockwright.types.system import API_VERSION, MIN_API_VERSION, parse_api_version

Handler = Callable[[Request], Awaitable[Response | None]]

MAX_VERSION = parse_api_version(API_VERSION)
MIN_VERSION = parse_api_version(MIN_API_VERSION)
_VERSION_PREFIX = re.compile(r"/v(\d+)\.(\d+)(?=/|$)")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(:path)?\}")
_ANY = ""  # bucket of patterns whose first segment is a parameter


class MethodNotAllowed(DockwrightError):
    """The path exists but not for this method; `allowed` lists the methods that do."""

    def __init__(self, message: str, allowed: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.allowed = tuple(sorted(allowed))


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    min_version: tuple[int, int] = (1, 24)


@dataclass(frozen=True)
class _Compiled:
    route: Route
    regex: re.Pattern[str]
    greedy: bool


@dataclass
class _MethodTable:
    exact: dict[str, Route] = field(default_factory=dict)
    buckets: dict[str, list[_Compiled]] = field(default_factory=dict)


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The regex for `pattern`, or None when it has no parameters (matched exactly)."""
    if "{" not in pattern:
        return None
    parts: list[str] = []
    pos = 0
    for m in _PARAM.finditer(pattern):
        parts.append(re.escape(pattern[pos : m.start()]))
        parts.append(f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    parts.append(re.escape(pattern[pos:]))
    return re.compile("".join(parts))


def _first_segment(path: str) -> str:
    """'containers' for '/containers/x/start'; the bucket key for a path or a pattern."""
    end = path.find("/", 1)
    return path[1:] if end < 0 else path[1:end]


class Router:
    """Routes bucketed by method, then by exact path or first segment, for cheap lookups."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self._tables: dict[str, _MethodTable] = {}
        self.add_all(routes)

    def add(self, route: Route) -> None:
        if not route.pattern.startswith("/"):
            raise ValueError(f"route pattern must start with '/': {route.pattern}")
        table = self._tables.setdefault(route.method.upper(), _MethodTable())
        regex = compile_pattern(route.pattern)
        if regex is None:
            if route.pattern in table.exact:
                raise ValueError(f"duplicate route {route.method} {route.pattern}")
            table.exact[route.pattern] = route
            return
        key = _first_segment(route.pattern)
        bucket = table.buckets.setdefault(_ANY if "{" in key else key, [])
        if any(c.route.pattern == route.pattern for c in bucket):
            raise ValueError(f"duplicate route {route.method} {route.pattern}")
        bucket.append(_Compiled(route, regex, ":path}" in route.pattern))
        bucket.sort(key=lambda c: c.greedy)  # stable: registration order within each kind

    def add_all(self, routes: Iterable[Route]) -> None:
        for route in routes:
            self.add(route)

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for (method, path) and its parameters; NotFound or MethodNotAllowed."""
        found = self._lookup(method, path)
        if found is None and method == "HEAD":
            found = self._lookup("GET", path)
        if found is not None:
            return found
        allowed = [m for m in self._tables if m != method and self._lookup(m, path)]
        if allowed:
            raise MethodNotAllowed(f"method {method} not allowed for {path}", allowed)
        raise NotFound("page not found")

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        route, params = self.resolve(method, path)
        return route.handler, params

    def _lookup(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        table = self._tables.get(method)
        if table is None:
            return None
        route = table.exact.get(path)
        if route is not None:
            return route, {}
        for key in (_first_segment(path), _ANY):
            for compiled in table.buckets.get(key, ()):
                m = compiled.regex.fullmatch(path)
                if m is not None:
                    return compiled.route, m.groupdict()
        return None

    def routes(self) -> list[Route]:
        """Every registered route (for listings and tests)."""
        out: list[Route] = []
        for table in self._tables.values():
            out.extend(table.exact.values())
            for bucket in table.buckets.values():
                out.extend(c.route for c in bucket)
        return out


def split_version(path: str) -> tuple[tuple[int, int], str]:
    """(version, path without the `/v1.NN` prefix); no prefix means the newest version."""
    if not path.startswith("/v"):
        return MAX_VERSION, path
    m = _VERSION_PREFIX.match(path)
    if m is None:
        return MAX_VERSION, path
    return (int(m.group(1)), int(m.group(2))), path[m.end() :] or "/"


def check_version(version: tuple[int, int], route_min: tuple[int, int] = MIN_VERSION) -> None:
    """Docker's version middleware: InvalidParameter outside [1.24, 1.45] or below the route's."""
    text = f"{version[0]}.{version[1]}"
    if version > MAX_VERSION:
        raise InvalidParameter(
            f"client version {text} is too new. Maximum supported API version is {API_VERSION}"
        )
    if version < MIN_VERSION:
        raise InvalidParameter(
            f"client version {text} is too old. Minimum supported API version is "
            f"{MIN_API_VERSION}, please upgrade your client to a newer version"
        )
    if version < route_min:
        raise InvalidParameter(
            f"client version {text} is too old for this endpoint, "
            f"which needs api version {route_min[0]}.{route_min[1]}"
        )
