"""One client connection: h11 parses, this protocol moves bytes and runs handlers.

The protocol always reads the socket (asyncio `data_received`), buffering what arrives in
`_inbox`; h11 is fed from that buffer only when the request cycle needs more. So a running
handler still notices the client closing (`disconnected()`), pipelined bytes wait their turn,
and a hijack hands h11's unparsed leftovers plus the buffer to the handler untouched. Reading
pauses past HIGH_WATER buffered bytes (then a close is noticed only once the buffer drains).

A request cycle ends in one of three modes: a plain Response (keep-alive continues), a
chunked stream (`start_stream`, ended by the server when the handler returns) or a hijack
(the handler owns the socket; the server closes it when the handler returns).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import unquote

import h11

from dockwright.api.errors import error_response, error_status_response, status_for
from dockwright.api.http import Headers, Hijacked, Query, Request, Response, StreamWriter
from dockwright.api.router import Router, check_version, split_version
from dockwright.errors import DockwrightError, InvalidParameter
from dockwright.types.system import API_VERSION, ENGINE_VERSION, PRODUCT

logger = logging.getLogger("dockwright.api")

MAX_HEAD = 1 << 20  # request line + headers; X-Registry-Auth headers can be large
HIGH_WATER = 1 << 20
LOW_WATER = 1 << 18
DRAIN_LIMIT = 1 << 18  # unread request body discarded to keep a connection alive

BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"Api-Version", API_VERSION.encode()),
    (b"Docker-Experimental", b"false"),
    (b"Ostype", b"linux"),
    (b"Server", f"Docker/{ENGINE_VERSION}-{PRODUCT} (linux)".encode()),
)
_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}
_NO_BODY = frozenset({204, 304})


class _Clock:
    """The Date header, formatted once per second."""

    second = 0
    value = b""

    @classmethod
    def date(cls) -> bytes:
        now = int(time.time())
        if now != cls.second:
            cls.second, cls.value = now, formatdate(now, usegmt=True).encode()
        return cls.value


def _head(content_type: str | None, extra: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
    headers = [*BASE_HEADERS, (b"Date", _Clock.date())]
    if content_type:
        headers.append((b"Content-Type", content_type.encode("latin-1")))
    if extra:
        headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items())
    return headers


def _split_target(target: bytes) -> tuple[str, str]:
    """(decoded path, raw query) of a request target; absolute-form targets are reduced."""
    text = target.decode("utf-8", "replace")
    if not text.startswith("/"):
        scheme_end = text.find("://")
        slash = text.find("/", scheme_end + 3) if scheme_end >= 0 else -1
        text = text[slash:] if slash >= 0 else "/"
    path, _, query = text.partition("?")
    return (unquote(path) if "%" in path else path), query


class _Pipe:
    """The Hijacked side of a connection handed to a handler."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def read(self, n: int = 65536) -> bytes:
        return await self._conn.read_raw(n)

    async def write(self, data: bytes) -> None:
        if data:
            await self._conn.send(data)

    def close_write(self) -> None:
        self._conn.close_write()

    async def close(self) -> None:
        self._conn.close()


class _Chunks:
    """The StreamWriter of a chunked response."""

    def __init__(self, conn: Connection, head_only: bool) -> None:
        self._conn = conn
        self._head_only = head_only

    async def write(self, data: bytes) -> None:
        conn = self._conn
        if conn.eof:
            raise ConnectionResetError("client has gone")
        if data and not self._head_only:
            await conn.send(conn.h11_send(h11.Data(data=data)))


class Connection(asyncio.Protocol):
    """The asyncio protocol of one client; also the Channel of its current Request."""

    def __init__(self, router: Router, registry: set[Connection]) -> None:
        self._router = router
        self._registry = registry
        self._loop = asyncio.get_running_loop()
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self._transport: asyncio.Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._inbox = bytearray()
        self._reading_paused = False
        self._data_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._write_closed = False
        self._gone = asyncio.Event()
        self.eof = False  # the client closed its side (or the connection is lost)
        self._lost = False
        self._tls = False
        self._method = b"GET"
        self._mode = ""  # "", "stream" or "hijack": how the current response is sent

    # -- asyncio.Protocol callbacks ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._tls = transport.get_extra_info("sslcontext") is not None
        self._registry.add(self)
        self._task = self._loop.create_task(self._serve())

    def data_received(self, data: bytes) -> None:
        self._inbox += data
        if len(self._inbox) > HIGH_WATER and not self._reading_paused and self._transport:
            self._reading_paused = True
            self._transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._gone.set()
        self._wake_reader()
        # Keep the write side open: a half-closed hijack still gets its output (TLS cannot).
        return not self._tls

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = self.eof = True
        self._gone.set()
        self._wake_reader()
        self._wake_writer()
        self._registry.discard(self)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_writer()

    def abort(self) -> asyncio.Task[None] | None:
        """Cancel the in-flight handler and drop the connection (server shutdown)."""
        if self._task is not None:
            self._task.cancel()
        if self._transport is not None:
            self._transport.abort()
        return self._task

    # -- low-level I/O ----------------------------------------------------------------------

    def _wake_reader(self) -> None:
        waiter = self._data_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_writer(self) -> None:
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait_data(self) -> None:
        self._data_waiter = self._loop.create_future()
        try:
            await self._data_waiter
        finally:
            self._data_waiter = None

    def _take(self, n: int) -> bytes:
        data = bytes(self._inbox[:n])
        del self._inbox[:n]
        if self._reading_paused and len(self._inbox) < LOW_WATER and self._transport:
            self._reading_paused = False
            self._transport.resume_reading()
        return data

    async def read_raw(self, n: int) -> bytes:
        """Hijacked read: up to n buffered bytes, waiting for some; b"" at EOF."""
        while not self._inbox and not self.eof:
            await self._wait_data()
        return self._take(n)

    async def send(self, data: bytes) -> None:
        """Write and wait while the transport's buffer is over its high-water mark."""
        transport = self._transport
        if self._lost or self._write_closed or transport is None or transport.is_closing():
            raise ConnectionResetError("client has gone")
        transport.write(data)
        while self._write_paused and not self._lost:
            self._drain_waiter = self._loop.create_future()
            try:
                await self._drain_waiter
            finally:
                self._drain_waiter = None
        if self._lost:
            raise ConnectionResetError("client has gone")

    def close_write(self) -> None:
        transport = self._transport
        if transport and not transport.is_closing() and transport.can_write_eof():
            self._write_closed = True
            transport.write_eof()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def h11_send(self, event: h11.Event) -> bytes:
        return self._h11.send(event) or b""

    async def _next_event(self) -> h11.Event | type[h11.PAUSED]:
        """The next h11 event, feeding it from the inbox (or EOF) as it needs more."""
        while True:
            event = self._h11.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            while not self._inbox and not self.eof:
                await self._wait_data()
            self._h11.receive_data(self._take(len(self._inbox)) if self._inbox else b"")

    # -- the Channel of the current request -------------------------------------------------

    async def receive(self) -> bytes | None:
        """The next piece of the request body; None once it is complete."""
        h = self._h11
        if self._mode == "hijack" or h.their_state is not h11.SEND_BODY:
            return None
        if h.client_is_waiting_for_100_continue:
            await self.send(self.h11_send(h11.InformationalResponse(status_code=100, headers=[])))
        try:
            event = await self._next_event()
        except h11.RemoteProtocolError as exc:
            raise InvalidParameter(f"malformed request body: {exc}") from None
        return bytes(event.data) if isinstance(event, h11.Data) else None

    async def disconnected(self) -> None:
        await self._gone.wait()

    async def start_stream(
        self, status: int, content_type: str, headers: Mapping[str, str] | None
    ) -> StreamWriter:
        self._take_over("stream")
        response = h11.Response(
            status_code=status,
            headers=_head(content_type, headers),
            reason=_REASONS.get(status, b""),
        )
        await self.send(self.h11_send(response))
        return _Chunks(self, head_only=self._method == b"HEAD")

    async def hijack(self, content_type: str) -> Hijacked:
        """Answer 101 (client asked to Upgrade) or a bare 200, then hand over the raw socket."""
        while await self.receive() is not None:
            pass  # the request body is not part of the raw stream
        self._take_over("hijack")
        headers = _head(content_type, None)
        if self._h11.their_state is h11.MIGHT_SWITCH_PROTOCOL:
            headers += [(b"Connection", b"Upgrade"), (b"Upgrade", b"tcp")]
            upgraded = h11.InformationalResponse(
                status_code=101, headers=headers, reason=b"UPGRADED"
            )
            head = self.h11_send(upgraded)
        else:  # h11 would frame a body; this response has none, the raw stream follows
            lines = [b"HTTP/1.1 200 OK"] + [k + b": " + v for k, v in headers]
            head = b"\r\n".join(lines) + b"\r\n\r\n"
        leftover, _ = self._h11.trailing_data
        self._inbox[:0] = leftover
        await self.send(head)
        return _Pipe(self)

    def _take_over(self, mode: str) -> None:
        if self._mode:
            raise RuntimeError(f"response already sent as {self._mode}")
        self._mode = mode

    # -- request cycle ----------------------------------------------------------------------

    async def _serve(self) -> None:
        try:
            while True:
                try:
                    event = await self._next_event()
                except h11.RemoteProtocolError as exc:
                    await self._reject(exc)
                    return
                if not isinstance(event, h11.Request) or not await self._cycle(event):
                    return
        except ConnectionError:
            pass  # the client went away mid-response; nothing left to tell it
        except Exception:
            logger.exception("api connection failed")
        finally:
            self.close()

    async def _reject(self, exc: h11.RemoteProtocolError) -> None:
        """Answer a request h11 could not parse, then close."""
        if self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            await self._respond(error_status_response(exc.error_status_hint, str(exc)))

    async def _cycle(self, event: h11.Request) -> bool:
        """Run one request to its response; True when the connection can take another."""
        self._method, self._mode = event.method, ""
        started = time.monotonic()
        response = await self._run(event)
        if self._mode:
            # A response here after a takeover means the handler failed: close, so the client
            # sees a truncated stream rather than a clean end.
            self._log(event, started, response.status if response else 200)
            if self._mode == "hijack" or response is not None or self.eof:
                return False
            await self.send(self.h11_send(h11.EndOfMessage()))
            return await self._next_cycle()
        response = response or error_status_response(500, "handler gave no response")
        expecting = self._h11.client_is_waiting_for_100_continue
        await self._respond(response)
        self._log(event, started, response.status)
        return not expecting and await self._next_cycle()

    async def _run(self, event: h11.Request) -> Response | None:
        method = event.method.decode("ascii")
        path, query = _split_target(event.target)
        try:
            version, path = split_version(path)
            route, params = self._router.resolve(method, path)
            check_version(version, route.min_version)
            headers = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers)
            req = Request(
                method, path, version=version, params=params,
                headers=headers, query=Query(query), channel=self,
            )  # fmt: skip
            response = await route.handler(req)
        except Exception as exc:
            return self._failure(method, path, exc)
        if response is not None and self._mode:
            logger.error("%s %s returned a response after taking over the connection", method, path)
        return response

    def _failure(self, method: str, path: str, exc: Exception) -> Response:
        """The error response for `exc`, logged; after a takeover it only signals "close"."""
        if self._mode and isinstance(exc, ConnectionError):
            return Response(500)  # the client went away mid-stream: nothing to log
        status = status_for(exc)
        if status >= 500 and not isinstance(exc, DockwrightError):
            logger.error("%s %s failed: %r", method, path, exc, exc_info=exc)
        elif status >= 500:
            logger.error("%s %s failed: %s: %s", method, path, type(exc).__name__, exc)
        elif self._mode:
            logger.warning("%s %s failed after the response started: %s", method, path, exc)
        return error_response(exc)

    async def _respond(self, response: Response) -> None:
        status = response.status
        headers = _head(response.content_type, response.headers)
        body = response.body
        if status not in _NO_BODY:
            headers.append((b"Content-Length", str(len(body)).encode()))
        out = self.h11_send(
            h11.Response(status_code=status, headers=headers, reason=_REASONS.get(status, b""))
        )
        if body and status not in _NO_BODY and self._method != b"HEAD":
            out += self.h11_send(h11.Data(data=body))
        out += self.h11_send(h11.EndOfMessage())
        await self.send(out)

    async def _next_cycle(self) -> bool:
        """Discard a small unread body, then reset h11 for the next request."""
        h = self._h11
        unread = 0
        while h.their_state is h11.SEND_BODY and unread <= DRAIN_LIMIT:
            chunk = await self.receive()
            if chunk is None:
                break
            unread += len(chunk)
        if h.our_state is not h11.DONE or h.their_state is not h11.DONE:
            return False
        h.start_next_cycle()
        return True

    def _log(self, event: h11.Request, started: float, status: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = (time.monotonic() - started) * 1000
            target = event.target.decode("utf-8", "replace")
            method = event.method.decode("ascii")
            logger.debug("%s %s %d %s%.1fms", method, target, status, self._mode, elapsed)
