"""A small HTTP/1.1 server on h11: keep-alive, streamed request bodies, sendfile responses.

The handler is one async function `Request -> Response`. Request bodies are pulled on demand
(`Request.chunks()`), so an upload streams straight to disk; a response body is bytes or a
`FileBody`, which goes out with `loop.sendfile` (os.sendfile on plain TCP, a read/write loop
under TLS) through h11's data passthrough so h11 still frames the message.

Ownership: `HttpServer` owns its listener and every connection task; `close()` stops listening
and cancels connections still open after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qsl, unquote

import h11

logger = logging.getLogger("dockwright.registry")
access_log = logging.getLogger("dockwright.registry.access")

READ_CHUNK = 256 * 1024
HIGH_WATER = 256 * 1024
DRAIN_LIMIT = 1 << 20  # unread body bytes we read and discard to keep a connection alive
SHUTDOWN_GRACE = 5.0
IDLE_TIMEOUT = 120.0  # keep-alive connections idle this long are closed
SERVER = b"dockwright-registry"
_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}


class ClientGone(Exception):
    """The client closed the connection or broke HTTP framing while sending a body."""


@dataclass(frozen=True)
class FileBody:
    """`length` bytes of a file from `offset`, sent with sendfile.

    `file`, when given, is already open (so a blob removed meanwhile is still sent whole);
    the server closes it once the response is written or abandoned. Otherwise `path` is
    opened when the body is sent.
    """

    path: Path
    offset: int
    length: int
    file: BinaryIO | None = None

    def __len__(self) -> int:
        return self.length


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | FileBody = b""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    _chunks: Callable[[], AsyncIterator[bytes]]
    scheme: str = "http"

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def chunks(self) -> AsyncIterator[bytes]:
        """The request body as it arrives; ClientGone when the client breaks off."""
        return self._chunks()

    async def read(self, limit: int) -> bytes | None:
        """The whole body, or None when it exceeds `limit` bytes (the rest is left unread)."""
        parts, size = [], 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                return None
            parts.append(chunk)
        return b"".join(parts)


Handler = Callable[[Request], Awaitable[Response]]


class _Clock:
    second = 0
    value = b""

    @classmethod
    def date(cls) -> bytes:
        now = int(time.time())
        if now != cls.second:
            cls.second, cls.value = now, formatdate(now, usegmt=True).encode()
        return cls.value


def _access_record(request: Request, response: Response, started: float) -> str:
    """One JSON line per request (the structured access log)."""
    return json.dumps(
        {
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "bytes": 0 if request.method == "HEAD" else len(response.body),
            "ms": round((time.monotonic() - started) * 1000, 2),
            "agent": request.header("user-agent"),
        }
    )


class _Connection:
    """One client: parse with h11, run the handler per request, write the response."""

    def __init__(
        self, handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.handler = handler
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        self.busy = False  # between the first byte of a request and the end of its response

    async def _next(self) -> object:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.h11.receive_data(await self.reader.read(READ_CHUNK))

    async def _body(self) -> AsyncIterator[bytes]:
        if self.h11.they_are_waiting_for_100_continue:
            self.writer.write(self.h11.send(h11.InformationalResponse(status_code=100, headers=[])))
        while True:
            try:
                event = await self._next()
            except (h11.RemoteProtocolError, ConnectionError) as exc:
                raise ClientGone(str(exc)) from None
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise ClientGone("connection closed during request body")

    async def run(self) -> None:
        try:
            while await self._cycle():
                self.h11.start_next_cycle()
        except (ClientGone, ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()

    async def _cycle(self) -> bool:
        """Serve one request; False when the connection should close."""
        self.busy = False
        if not self.h11.trailing_data[0] and not await self._wait_for_request():
            return False
        self.busy = True
        try:
            event = await self._next()
        except h11.RemoteProtocolError:
            await self._send(Response(400, body=b"bad request"), "GET")
            return False
        if not isinstance(event, h11.Request):
            return False
        request = self._request(event)
        started = time.monotonic()
        expecting = self.h11.they_are_waiting_for_100_continue
        response = await self.handler(request)
        # a client still waiting for "100 Continue" may never send its body: do not drain it
        skip_drain = expecting and self.h11.they_are_waiting_for_100_continue
        await self._send(response, request.method)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(_access_record(request, response, started))
        if skip_drain and self.h11.their_state is h11.SEND_BODY:
            return False
        return await self._finish_body()

    def _request(self, event: h11.Request) -> Request:
        target = event.target.decode("utf-8", "replace")
        path, _, qs = target.partition("?")
        headers: dict[str, str] = {}
        for name, value in event.headers:
            key, text = name.decode("latin-1"), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        return Request(
            event.method.decode("ascii", "replace"),
            unquote(path),
            dict(parse_qsl(qs, keep_blank_values=True)),
            headers,
            self._body,
            "https" if self.writer.get_extra_info("sslcontext") is not None else "http",
        )

    async def _wait_for_request(self) -> bool:
        """Block while idle (cancellable at shutdown); False when the client closed or idled."""
        try:
            data = await asyncio.wait_for(self.reader.read(READ_CHUNK), IDLE_TIMEOUT)
        except TimeoutError:
            return False
        self.h11.receive_data(data)
        return bool(data)

    async def _finish_body(self) -> bool:
        """Discard a body the handler left unread, if small; else close."""
        read = 0
        while self.h11.their_state is h11.SEND_BODY and read <= DRAIN_LIMIT:
            event = await self._next()
            if isinstance(event, h11.Data):
                read += len(event.data)
        return self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE

    async def _send(self, response: Response, method: str) -> None:
        try:
            await self._write_response(response, method)
        finally:
            if isinstance(response.body, FileBody) and response.body.file is not None:
                response.body.file.close()

    async def _write_response(self, response: Response, method: str) -> None:
        headers = [(b"Date", _Clock.date()), (b"Server", SERVER)]
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if response.status not in (204, 304):
            headers.append((b"Content-Length", str(len(response.body)).encode()))
        self.writer.write(
            self.h11.send(
                h11.Response(
                    status_code=response.status,
                    headers=headers,
                    reason=_REASONS.get(response.status, b""),
                )
            )
        )
        if method != "HEAD" and len(response.body):
            await self._send_body(response.body)
        self.writer.write(self.h11.send(h11.EndOfMessage()))
        if self.writer.transport.get_write_buffer_size() > HIGH_WATER:
            await self.writer.drain()

    async def _send_body(self, body: bytes | FileBody) -> None:
        if isinstance(body, bytes):
            self.writer.write(self.h11.send(h11.Data(data=body)))
            return
        pieces = self.h11.send_with_data_passthrough(h11.Data(data=body)) or []  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        for piece in pieces:
            if isinstance(piece, FileBody) and piece.file is not None:
                await loop.sendfile(self.writer.transport, piece.file, piece.offset, piece.length)
            elif isinstance(piece, FileBody):
                with piece.path.open("rb") as f:
                    await loop.sendfile(self.writer.transport, f, piece.offset, piece.length)
            else:
                self.writer.write(piece)


class HttpServer:
    """`await start(host, port)`, then `await close()`; `port` is the bound port."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl = ssl_context
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: dict[asyncio.Task[None], _Connection] = {}

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(
            self._accept, host, port, ssl=self.ssl, limit=READ_CHUNK, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = self._tasks[task] = _Connection(self.handler, reader, writer)
        try:
            await conn.run()
        except Exception:
            logger.exception("registry connection failed")
        finally:
            self._tasks.pop(task, None)

    async def close(self) -> None:
        """Stop listening, close idle connections; give busy ones a grace period, then cancel."""
        if self._server is not None:
            self._server.close()
        for task, conn in list(self._tasks.items()):
            if not conn.busy:
                task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=SHUTDOWN_GRACE)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), SHUTDOWN_GRACE)


__all__ = ["ClientGone", "FileBody", "HttpServer", "Request", "Response"]
