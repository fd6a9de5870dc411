"""The daemon's half of `RUN --mount=type=ssh`: agent sockets in RUN steps, forwarded to the client.

The client of a build holds the agents (the daemon may be on another machine), so each agent
connection a step makes is carried over the client's forwarding session, one upgraded
`POST /build/ssh` connection (docs/build-ssh.md; the framing is in types/buildssh.py):
- `SshSession` owns that connection while its route runs: it reads frames and hands DATA to the
  stream they belong to; `open` starts a stream for one agent connection.
- `AgentSocket` is the unix socket a step's container sees: every connection accepted on it
  becomes a stream of the session, pumped both ways until either side closes.
- `SshSessions` (one per build service) finds a session by the id the build request names: the
  route that accepts the session and the step that uses it meet only through that id.
Cancellation: a session ending closes all its streams; an AgentSocket leaving closes its
listener and every connection it accepted, and removes the socket file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Protocol

from dockwright.errors import Conflict, DockwrightError
from dockwright.types.buildssh import CLOSE, DATA, OPEN, FrameDecoder, FrameError, frame

log = logging.getLogger(__name__)

SESSION_WAIT = 10.0  # seconds a step waits for a session its build names to be connected
READ_SIZE = 65536
SOCKET_NAME = "agent.sock"

Inbox = asyncio.Queue[bytes | None]  # a stream's DATA from the client; None when it closed


class Duplex(Protocol):
    """The upgraded connection (api's Hijacked)."""

    async def read(self, n: int = READ_SIZE) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


class SshSession:
    """One client's forwarding connection; streams are numbered from 1 by the daemon."""

    def __init__(self, conn: Duplex) -> None:
        self.conn = conn
        self.streams: dict[int, Inbox] = {}
        self.next_stream = 1
        self.lock = asyncio.Lock()  # frames are written whole, one at a time
        self.ended = False

    async def serve(self) -> None:
        """Read the client's frames until it closes; then every stream ends."""
        decoder = FrameDecoder()
        try:
            while data := await self.conn.read(READ_SIZE):
                for stream, kind, payload in decoder.feed(data):
                    self._dispatch(stream, kind, payload)
        except (FrameError, ConnectionError) as exc:
            log.warning("ssh forwarding session failed: %s", exc)
        finally:
            self.ended = True
            for inbox in self.streams.values():
                inbox.put_nowait(None)
            self.streams.clear()

    def _dispatch(self, stream: int, kind: int, payload: bytes) -> None:
        inbox = self.streams.get(stream)
        if inbox is None:
            return  # a stream we already closed: its late frames are dropped
        if kind == DATA:
            inbox.put_nowait(payload)
        elif kind == CLOSE:
            del self.streams[stream]
            inbox.put_nowait(None)

    async def open(self, agent_id: str) -> tuple[int, Inbox]:
        """A new stream to agent `agent_id`; ConnectionError when the session has ended."""
        if self.ended:
            raise ConnectionResetError("ssh forwarding session has ended")
        stream, self.next_stream = self.next_stream, self.next_stream + 1
        inbox: Inbox = asyncio.Queue()
        self.streams[stream] = inbox
        await self.send(stream, OPEN, agent_id.encode())
        return stream, inbox

    async def send(self, stream: int, kind: int, payload: bytes = b"") -> None:
        async with self.lock:
            await self.conn.write(frame(stream, kind, payload))

    async def close_stream(self, stream: int) -> None:
        """Our side is done with `stream`: the client is told unless it closed it first."""
        if self.streams.pop(stream, None) is not None and not self.ended:
            with contextlib.suppress(ConnectionError):
                await self.send(stream, CLOSE)


class SshSessions:
    """The connected sessions by id; a step waits a little for one that is still connecting."""

    def __init__(self) -> None:
        self._found: dict[str, asyncio.Future[SshSession]] = {}

    def _future(self, session_id: str) -> asyncio.Future[SshSession]:
        if session_id not in self._found:
            self._found[session_id] = asyncio.get_running_loop().create_future()
        return self._found[session_id]

    async def serve(self, session_id: str, conn: Duplex) -> None:
        """Run the session of `conn` under `session_id` until the client closes it."""
        future = self._future(session_id)
        if future.done():
            raise Conflict(f"ssh session {session_id} is already connected")
        session = SshSession(conn)
        future.set_result(session)
        try:
            await session.serve()
        finally:
            self._found.pop(session_id, None)

    async def get(self, session_id: str, timeout: float = SESSION_WAIT) -> SshSession:
        """The session `session_id`; DockwrightError when it does not connect in time."""
        future = self._future(session_id)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            if not future.done():
                self._found.pop(session_id, None)
            raise DockwrightError(f"ssh session {session_id} is not connected") from None

    def connected(self, session_id: str) -> bool:
        future = self._found.get(session_id)
        return future is not None and future.done()


class AgentSocket:
    """`async with AgentSocket(session, id, directory, uid, gid, mode) as path`: a unix socket
    at `directory/agent.sock` whose connections reach agent `id` through `session`."""

    def __init__(self, session: SshSession, agent_id: str, directory: Path, uid: int, gid: int,
                 mode: int) -> None:  # fmt: skip
        self.session, self.agent_id = session, agent_id
        self.path = directory / SOCKET_NAME
        self.owner, self.mode = (uid, gid), mode
        self.server: asyncio.Server | None = None
        self.handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Path:
        sock = await asyncio.to_thread(self._listen)
        self.server = await asyncio.start_unix_server(self._handle, sock=sock)
        return self.path

    def _listen(self) -> socket.socket:
        """Blocking: bind through the directory's descriptor (no 108-byte sun_path limit)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        dirfd = os.open(self.path.parent, os.O_PATH | os.O_DIRECTORY)
        try:
            sock.bind(f"/proc/self/fd/{dirfd}/{SOCKET_NAME}")
            os.chown(self.path, *self.owner)
            os.chmod(self.path, self.mode)
            sock.listen(16)
        except BaseException:
            sock.close()
            raise
        finally:
            os.close(dirfd)
        return sock

    async def __aexit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.handlers):
            task.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            await self._forward(reader, writer)
        except (ConnectionError, OSError) as exc:
            log.debug("ssh agent connection ended: %s", exc)
        finally:
            self.handlers.discard(task)
            writer.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One agent connection: the container's bytes up, the client's down, until either
        side closes; the stream is closed on both sides afterwards."""
        stream, inbox = await self.session.open(self.agent_id)
        down = asyncio.create_task(_drain(inbox, writer))
        try:
            while data := await reader.read(READ_SIZE):
                await self.session.send(stream, DATA, data)
                if down.done():
                    break
        finally:
            down.cancel()
            await asyncio.gather(down, return_exceptions=True)
            await self.session.close_stream(stream)


async def _drain(inbox: Inbox, writer: asyncio.StreamWriter) -> None:
    """The client's DATA into the container's connection; at CLOSE, end the connection."""
    while (data := await inbox.get()) is not None:
        writer.write(data)
        await writer.drain()
    writer.close()
