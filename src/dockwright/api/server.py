"""ApiServer: listens on unix and tcp addresses and runs one `Connection` per client.

Ownership: the server owns its listening sockets, the unix socket files it created and every
connection task; `close()` stops listening, cancels in-flight handlers (a cancelled handler
sees CancelledError) and removes the socket files. Addresses are Docker's `-H` syntax:
`unix:///run/x.sock`, `tcp://127.0.0.1:2375` (TLS when an ssl context is given).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dockwright.api.connection import Connection
from dockwright.api.router import Router
from dockwright.errors import InvalidParameter

logger = logging.getLogger("dockwright.api")

DEFAULT_TCP_PORT = 2375
DEFAULT_TLS_PORT = 2376
SOCKET_MODE = 0o660
SHUTDOWN_GRACE = 5.0


@dataclass(frozen=True)
class ListenAddress:
    """A parsed `-H` address: `path` for unix, `host` and `port` for tcp."""

    scheme: str
    path: str = ""
    host: str = ""
    port: int = 0


def parse_host(text: str, *, tls: bool = False) -> ListenAddress:
    """Parse Docker's `-H` syntax; InvalidParameter for other schemes or a missing path."""
    if text.startswith("unix://"):
        path = text[len("unix://") :]
        if not path.startswith("/"):
            raise InvalidParameter(f"invalid host {text}: unix socket path must be absolute")
        return ListenAddress("unix", path=path)
    if text.startswith("tcp://"):
        parts = urlsplit(text)
        if parts.path not in ("", "/"):
            raise InvalidParameter(f"invalid host {text}: tcp address has a path")
        try:
            port = parts.port
        except ValueError:
            raise InvalidParameter(f"invalid host {text}: bad port") from None
        default = DEFAULT_TLS_PORT if tls else DEFAULT_TCP_PORT
        return ListenAddress(
            "tcp", host=parts.hostname or "0.0.0.0", port=default if port is None else port
        )
    raise InvalidParameter(f"invalid host {text}: expected unix:///path or tcp://host:port")


def _prepare_socket_path(path: Path) -> None:
    """Remove a stale socket left by a dead daemon; refuse to delete anything else."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise InvalidParameter(f"cannot listen on {path}: it exists and is not a socket")
    path.unlink()


class ApiServer:
    """The Engine API server: `await start(hosts)`, `await serve_forever()`, `await close()`."""

    def __init__(self, router: Router, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.router = router
        self._ssl = ssl_context
        self._listeners: list[asyncio.Server] = []
        self._socket_files: list[tuple[Path, int]] = []  # (path, inode) we created
        self._connections: set[Connection] = set()
        self._closed = asyncio.Event()
        self._closing = False
        self.addresses: list[str] = []

    async def start(self, hosts: list[str]) -> None:
        """Listen on every address; on any failure nothing stays open."""
        try:
            for host in hosts:
                await self._listen(parse_host(host, tls=self._ssl is not None))
        except BaseException:
            await self.close()
            raise

    async def _listen(self, addr: ListenAddress) -> None:
        loop = asyncio.get_running_loop()
        if addr.scheme == "unix":
            path = Path(addr.path)
            _prepare_socket_path(path)
            server = await loop.create_unix_server(self._connection, path=str(path))
            os.chmod(path, SOCKET_MODE)
            self._socket_files.append((path, path.stat().st_ino))
            self.addresses.append(f"unix://{path}")
        else:
            server = await loop.create_server(
                self._connection, addr.host, addr.port, ssl=self._ssl, reuse_address=True
            )
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                self.addresses.append(
                    f"tcp://{host}:{port}" if ":" not in host else f"tcp://[{host}]:{port}"
                )
        self._listeners.append(server)
        logger.info("api listening on %s", self.addresses[-1])

    def _connection(self) -> Connection:
        return Connection(self.router, self._connections)

    async def serve_forever(self) -> None:
        """Wait until `close()` has finished."""
        await self._closed.wait()

    async def close(self) -> None:
        """Stop listening, cancel in-flight handlers, remove our socket files."""
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        for server in self._listeners:
            server.close()
        self._remove_socket_files()
        tasks = [t for c in list(self._connections) if (t := c.abort()) is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
        for server in self._listeners:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), SHUTDOWN_GRACE)
        self._closed.set()

    def _remove_socket_files(self) -> None:
        """Unlink our socket files, unless another daemon has replaced one since."""
        for path, inode in self._socket_files:
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_ino == inode:
                    path.unlink()
        self._socket_files.clear()
