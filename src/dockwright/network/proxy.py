"""Published ports on [::1]: a TCP relay in the daemon, as Docker's userland proxy does.

IPv6 has no route_localnet, so no nft rule can send a packet from ::1 to a bridge; for
[::1]:port the daemon itself listens and relays each connection to the container (its IPv6
address when it has one, else its IPv4 one). The listeners belong to the daemon's event loop:
they stop with `stop`/`close` and a restarted daemon opens them again from the records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from dockwright.network.model import Endpoint, PortMapping

log = logging.getLogger("dockwright.proxy")

LOOPBACK6 = "::1"
_CHUNK = 65536

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Listener(Protocol):
    def close(self) -> None: ...


Listen = Callable[[Handler, str, int], Awaitable[Listener]]  # asyncio.start_server's shape


@dataclass(frozen=True)
class Relay:
    """One [::1] listener: host port → the container's address and port."""

    host_port: int
    target: str
    target_port: int


def relays_for(ep: Endpoint) -> list[Relay]:
    """The [::1] listeners an endpoint's TCP mappings need: those published on every address,
    on every IPv6 one, or on ::1 itself."""
    return [
        Relay(m.host_port, ep.ip6 or ep.ip, m.container_port) for m in ep.ports if _on_loopback6(m)
    ]


def _on_loopback6(m: PortMapping) -> bool:
    return m.proto == "tcp" and m.host_ip in ("", "::", LOOPBACK6)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


class LoopbackProxies:
    """The daemon's [::1] listeners, by endpoint id."""

    def __init__(self, listen: Listen = asyncio.start_server) -> None:
        self.listen = listen  # (handler, host, port) → a server; a fake in unit tests
        self._servers: dict[str, list[Listener]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()  # the open connections, for `close`

    async def start(self, ep: Endpoint) -> None:
        """Listen for every relay of `ep`; a port already taken on ::1 is logged and skipped
        (IPv4 and the host's other addresses still serve it)."""
        if ep.id in self._servers:
            return
        servers = []
        for r in relays_for(ep):
            try:
                servers.append(await self.listen(self._handler(r), LOOPBACK6, r.host_port))
            except OSError as exc:
                log.warning("[::1]:%d not published: %s", r.host_port, exc)
        self._servers[ep.id] = servers

    def _handler(self, r: Relay) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                await self._relay(r, reader, writer)
            finally:
                if task is not None:
                    self._tasks.discard(task)

        return handle

    @staticmethod
    async def _relay(r: Relay, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(r.target, r.target_port)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await w.wait_closed()

    def stop(self, endpoint_id: str) -> None:
        """Stop listening for `endpoint_id` (open connections end when the container goes)."""
        for server in self._servers.pop(endpoint_id, []):
            server.close()

    async def close(self) -> None:
        for eid in list(self._servers):
            self.stop(eid)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
