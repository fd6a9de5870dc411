"""The embedded DNS resolver: one UDP socket at 127.0.0.11:53 inside each container's netns.

The daemon owns the sockets (created through kernel.netns, served by its event loop), so no
process runs in the container. Names of containers sharing a user-defined network are answered
from the records (via `lookup`); other names go to the upstream servers the container would
have used, from the daemon's netns (so a host resolver on 127.0.0.x works too).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

from dockwright.kernel.netns import udp_socket_in
from dockwright.network.dnswire import BadQuery, Query, answer, parse_query, servfail

log = logging.getLogger("dockwright.dns")

RESOLVER_IP = "127.0.0.11"
FORWARD_TIMEOUT = 3.0

Lookup = Callable[[str, str], list[str] | None]  # (container id, name) → addresses, None: not ours
SocketFactory = Callable[[str, str, int], socket.socket]  # (netns path, address, port)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer, cid: str, upstream: tuple[str, ...]) -> None:
        self.server, self.cid, self.upstream = server, cid, upstream
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            q = parse_query(data)
        except BadQuery:
            return
        ips = self.server.lookup(self.cid, q.name)
        if ips is not None:
            self._send(answer(q, ips), addr)
        else:
            self.server.spawn(self._forward(q, data, addr))

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)

    async def _forward(self, q: Query, data: bytes, addr: tuple[str, int]) -> None:
        for server in self.upstream:
            try:
                reply = await asyncio.wait_for(_ask(server, data), FORWARD_TIMEOUT)
            except (OSError, TimeoutError):
                continue
            self._send(reply, addr)
            return
        self._send(servfail(q), addr)


async def _ask(server: str, data: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        await loop.sock_connect(s, (server, 53))
        await loop.sock_sendall(s, data)
        return await loop.sock_recv(s, 4096)


class DnsServer:
    """Resolvers per container; `stop` (or `close`) releases the socket and so the netns."""

    def __init__(self, lookup: Lookup, open_socket: SocketFactory = udp_socket_in) -> None:
        self.lookup = lookup
        self.open_socket = open_socket
        self._transports: dict[str, asyncio.BaseTransport] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def running(self, cid: str) -> bool:
        return cid in self._transports

    async def start(self, cid: str, pid: int, upstream: tuple[str, ...]) -> None:
        if cid in self._transports:
            return
        sock = await asyncio.to_thread(self.open_socket, f"/proc/{pid}/ns/net", RESOLVER_IP, 53)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self, cid, upstream), sock=sock
        )
        self._transports[cid] = transport

    def stop(self, cid: str) -> None:
        transport = self._transports.pop(cid, None)
        if transport is not None:
            transport.close()

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for cid in list(self._transports):
            self.stop(cid)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
