"""The handler contract: what a route handler receives (Request) and returns (Response).

Handlers are `async def handler(req: Request) -> Response | None`. They return None only after
taking over the connection with `req.hijack()` or `req.start_stream()`. The server (api.server)
owns the socket; handlers reach it only through the narrow `Channel` below, which keeps this
module free of I/O and lets unit tests drive a Request with a fake channel.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from dockwright.errors import InvalidParameter

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"

# Docker's httputils.BoolValue: everything else (present) is true.
_FALSE = frozenset({"", "0", "no", "false", "none"})


class Hijacked(Protocol):
    """A connection taken over by a handler: raw bytes both ways; the handler closes it."""

    async def read(self, n: int = 65536) -> bytes:
        """Up to `n` bytes from the client; b"" once the client has closed its side."""
        ...

    async def write(self, data: bytes) -> None:
        """Send `data`; raises ConnectionError once the client has gone."""
        ...

    def close_write(self) -> None:
        """Half-close: tell the client no more output follows (stdin may still arrive)."""
        ...

    async def close(self) -> None:
        """Close both directions."""
        ...


class StreamWriter(Protocol):
    """The body of a chunked streaming response; the server ends it when the handler returns."""

    async def write(self, data: bytes) -> None:
        """Send one chunk, flushed; raises ConnectionError once the client has gone."""
        ...


class Channel(Protocol):
    """What a Request needs from the connection that carried it (implemented by api.server)."""

    async def receive(self) -> bytes | None:
        """The next piece of the request body; None when the body is complete."""
        ...

    async def hijack(self, content_type: str) -> Hijacked: ...

    async def start_stream(
        self, status: int, content_type: str, headers: Mapping[str, str] | None
    ) -> StreamWriter: ...

    async def disconnected(self) -> None: ...


class Headers:
    """Request headers, looked up case-insensitively; repeated headers are joined with ", "."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            old = self._items.get(key)
            self._items[key] = value if old is None else f"{old}, {value}"

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._items.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def items(self) -> Iterable[tuple[str, str]]:
        return self._items.items()


class Query:
    """The query string with Docker's conventions for booleans, integers and JSON (`filters`)."""

    __slots__ = ("_raw", "_parsed")

    def __init__(self, raw: str = "") -> None:
        self._raw = raw
        self._parsed: dict[str, list[str]] | None = None

    def _values(self) -> dict[str, list[str]]:
        if self._parsed is None:
            self._parsed = parse_qs(self._raw, keep_blank_values=True) if self._raw else {}
        return self._parsed

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name` (like Go's FormValue), or `default` when absent."""
        values = self._values().get(name)
        return values[0] if values else default

    def getall(self, name: str) -> list[str]:
        return list(self._values().get(name, ()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._values()

    def bool(self, name: str, default: builtins.bool = False) -> builtins.bool:
        """Docker truthiness: "", "0", "no", "false", "none" are false, any other value true."""
        value = self.get(name)
        if value is None:
            return default
        return value.strip().lower() not in _FALSE

    def int(self, name: str, default: builtins.int | None = None) -> builtins.int | None:
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidParameter(
                f"invalid value for {name}: {value!r} is not an integer"
            ) from None

    def json(self, name: str, default: Any = None) -> Any:
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            return json.loads(value)
        except ValueError as exc:
            raise InvalidParameter(f"invalid json in query parameter {name}: {exc}") from None

    def filters(self) -> dict[str, builtins.list[str]]:
        """Docker's `filters` JSON: {"key": ["v"]} or the old {"key": {"v": true}} form."""
        raw = self.json("filters", {}) or {}
        if not isinstance(raw, dict):
            raise InvalidParameter("invalid filters: expected a JSON object")
        out: dict[str, builtins.list[str]] = {}
        for key, values in raw.items():
            if isinstance(values, dict):
                out[key] = [k for k, on in values.items() if on]
            elif isinstance(values, list):
                out[key] = [str(v) for v in values]
            else:
                out[key] = [str(values)]
        return out


class Request:
    """One HTTP request as a handler sees it; body access and connection takeover go to the channel."""

    __slots__ = ("method", "path", "version", "params", "headers", "query", "_channel", "_body")

    def __init__(
        self,
        method: str,
        path: str,
        *,
        version: tuple[int, int],
        params: dict[str, str],
        headers: Headers,
        query: Query,
        channel: Channel,
    ) -> None:
        self.method = method
        self.path = path
        self.version = version
        self.params = params
        self.headers = headers
        self.query = query
        self._channel = channel
        self._body: bytes | None = None

    async def stream(self) -> AsyncIterator[bytes]:
        """The body in chunks as they arrive (Content-Length or chunked); for uploads."""
        while (chunk := await self._channel.receive()) is not None:
            if chunk:
                yield chunk

    async def body(self) -> bytes:
        """The whole body (read once, then cached)."""
        if self._body is None:
            self._body = b"".join([chunk async for chunk in self.stream()])
        return self._body

    async def json(self) -> Any:
        """The body decoded as JSON; None for an empty body; InvalidParameter when malformed."""
        data = await self.body()
        if not data.strip():
            return None
        try:
            return json.loads(data)
        except ValueError as exc:
            raise InvalidParameter(f"invalid json in request body: {exc}") from None

    async def hijack(self, content_type: str = "application/vnd.docker.raw-stream") -> Hijacked:
        """Answer 101 UPGRADED (or 200 OK without Upgrade) and take over the raw connection."""
        return await self._channel.hijack(content_type)

    async def start_stream(
        self,
        status: int = 200,
        content_type: str = JSON,
        headers: Mapping[str, str] | None = None,
    ) -> StreamWriter:
        """Send the response head now; the body follows chunk by chunk."""
        return await self._channel.start_stream(status, content_type, headers)

    async def disconnected(self) -> None:
        """Complete when the client closes its side of a (non-hijacked) connection."""
        await self._channel.disconnected()


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response; the server adds Content-Length and Docker's common headers."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def encode_json(obj: Any) -> bytes:
    """Compact JSON with a trailing newline, like Go's json.Encoder that Docker uses."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def json_response(
    obj: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(status, encode_json(obj), JSON, headers or {})


def no_content() -> Response:
    return Response(204)


def text_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), TEXT)
