"""Wire-level helpers: the real ApiServer on a temp unix socket in a background event loop.

Tests talk to it with blocking sockets (http.client or raw), so the server sees exactly the
bytes a real client sends; `api.call(coro)` runs a coroutine on the server's loop.
"""

from __future__ import annotations

import asyncio
import http.client
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from dockwright.api.router import Route, Router
from dockwright.api.server import ApiServer


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 10) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class RunningApi:
    """A started ApiServer on its own loop thread; `stop()` closes it and joins the thread."""

    def __init__(self, routes: list[Route], hosts: list[str] | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dw-api-", dir="/tmp"))
        self.path = str(self.dir / "api.sock")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        try:
            self.server = self.call(self._start(routes, hosts or [f"unix://{self.path}"]))
        except BaseException:
            self._shutdown()
            raise

    async def _start(self, routes: list[Route], hosts: list[str]) -> ApiServer:
        server = ApiServer(Router(routes))
        await server.start(hosts)
        return server

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def soon(self, fn: Callable[[], Any]) -> None:
        self.loop.call_soon_threadsafe(fn)

    def http(self) -> UnixHTTPConnection:
        return UnixHTTPConnection(self.path)

    def raw(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(self.path)
        return sock

    def stop(self) -> None:
        try:
            self.call(self.server.close())
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """(response head without the blank line, bytes already read past it)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before the response head: {buf!r}")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def read_all(sock: socket.socket, already: bytes = b"") -> bytes:
    """Everything until the server closes the connection."""
    out = already
    while chunk := sock.recv(65536):
        out += chunk
    return out


def head_fields(head: bytes) -> tuple[str, dict[str, str]]:
    """(status line, lower-cased header dict) of a raw response head."""
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return lines[0], fields
