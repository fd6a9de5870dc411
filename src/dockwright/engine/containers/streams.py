"""Attach and logs: a container's stdio as streams for the API layer.

An attach to a container that is not running waits for its next start: the service connects it to
conmon's attach socket between the runtime's `create` and `start`, so no output is lost (this is
how `docker run` attaches before it starts the container).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from dockwright.engine.containers.base import ContainerBase
from dockwright.engine.containers.ports import AttachStream
from dockwright.errors import Conflict, InvalidParameter
from dockwright.types.container import PAUSED, RUNNING, Container

STDOUT, STDERR = 1, 2
CONNECT_TIMEOUT = 5.0


@dataclass
class AttachSession:
    """One client's attachment; output filtered to the streams it asked for."""

    tty: bool
    want: frozenset[int]
    _stream: asyncio.Future[AttachStream | None] = field(repr=False)

    @classmethod
    def pending(cls, tty: bool, want: frozenset[int]) -> AttachSession:
        """A session whose stream is connected later (when its container starts)."""
        return cls(tty, want, asyncio.get_running_loop().create_future())

    @classmethod
    def of(cls, stream: AttachStream, tty: bool, want: frozenset[int]) -> AttachSession:
        """A session over an already connected stream."""
        session = cls.pending(tty, want)
        session.connect(stream)
        return session

    def connect(self, stream: AttachStream | None) -> None:
        """Hand the session its stream; None ends it (the container will not start)."""
        if not self._stream.done():
            self._stream.set_result(stream)

    @property
    def waiting(self) -> bool:
        return not self._stream.done()

    async def _get(self) -> AttachStream | None:
        return await self._stream

    async def read(self) -> tuple[int, bytes]:
        """Next chunk the client wants; (0, b"") when the container's output ended."""
        stream = await self._get()
        if stream is None:
            return 0, b""
        while True:
            kind, data = await stream.read()
            if not data or kind in self.want or self.tty:
                return (STDOUT if self.tty and data else kind), data

    async def write(self, data: bytes) -> None:
        stream = await self._get()
        if stream is not None:
            await stream.write(data)

    async def close_stdin(self) -> None:
        stream = await self._get()
        if stream is not None:
            await stream.close_stdin()

    async def close(self) -> None:
        if not self._stream.done():
            self._stream.cancel()
            return
        stream = self._stream.result() if not self._stream.cancelled() else None
        if stream is not None:
            await stream.close()


class StreamsMixin(ContainerBase):
    async def attach(
        self, ref: str, *, stdout: bool, stderr: bool
    ) -> tuple[Container, AttachSession]:
        c = self.get(ref)
        if c.state.status == PAUSED:
            raise Conflict(f"container {c.id} is paused, unpause the container before attach")
        want = frozenset(k for k, on in ((STDOUT, stdout), (STDERR, stderr)) if on)
        if c.state.status == RUNNING:
            session = AttachSession.of(await self.runtime_of(c).attach(c.id), c.config.tty, want)
        else:
            session = AttachSession.pending(c.config.tty, want)
            self._pending_attach[c.id].append(session)
            session._stream.add_done_callback(lambda _f: self._forget_pending(c.id, session))
        self.publish(c, "attach")
        return c, session

    def _forget_pending(self, cid: str, session: AttachSession) -> None:
        pending = self._pending_attach.get(cid, [])
        if session in pending:
            pending.remove(session)
        if not pending:
            self._pending_attach.pop(cid, None)

    async def connect_pending_attachers(self, c: Container) -> None:
        """Called between runtime create and start: connect every waiting attach session."""
        for session in list(self._pending_attach.get(c.id, [])):
            if session.waiting:
                session.connect(await self.runtime_of(c).attach(c.id))

    def fail_pending_attachers(self, cid: str) -> None:
        for session in list(self._pending_attach.get(cid, [])):
            session.connect(None)

    async def resize(self, ref: str, height: int, width: int) -> None:
        c = self.get(ref)
        if height <= 0 or width <= 0:
            raise InvalidParameter("height and width must be positive")
        if c.state.status != RUNNING:
            raise Conflict(f"container {c.id} is not running")
        await self.runtime_of(c).resize(c.id, height, width)

    def logs(
        self,
        ref: str,
        *,
        stdout: bool,
        stderr: bool,
        follow: bool,
        tail: int | None,
        since: float,
        until: float,
    ) -> tuple[Container, AsyncIterator[tuple[int, float, bytes]]]:
        c = self.get(ref)
        if not (stdout or stderr):
            raise InvalidParameter("you must choose at least one stream")
        want = {k for k, on in ((STDOUT, stdout), (STDERR, stderr)) if on}
        records = self._log_records(c, follow and c.running, tail, since, until)
        return c, _only(records, want)

    def _log_records(
        self, c: Container, follow: bool, tail: int | None, since: float, until: float
    ) -> AsyncIterator[tuple[int, float, bytes]]:
        raise NotImplementedError  # wired in service.py


async def _only(
    records: AsyncIterator[tuple[int, float, bytes]], want: set[int]
) -> AsyncIterator[tuple[int, float, bytes]]:
    async for record in records:
        if record[0] in want:
            yield record
