"""Copy between a hijacked connection and the local stdio until the container's side ends.

Output: raw bytes with a TTY, else Docker frames demultiplexed to stdout/stderr. Input: stdin
forwarded (when attached) with the detach sequence intercepted; stdin EOF half-closes the
connection so the container sees EOF too. Single-threaded (select), so signals stay simple.
"""

from __future__ import annotations

import os
import select
from collections.abc import Callable
from dataclasses import dataclass

from dockwright.cli.escape import EscapeProxy
from dockwright.client.api import Hijacked
from dockwright.client.frames import STDERR, FrameDecoder

Writer = Callable[[bytes], None]


@dataclass
class Streams:
    """Where container output goes and where input comes from (fd None = no stdin)."""

    out: Writer
    err: Writer
    stdin_fd: int | None = None


class Pump:
    def __init__(self, conn: Hijacked, tty: bool, streams: Streams, keys: bytes | None) -> None:
        self.conn = conn
        self.tty = tty
        self.streams = streams
        self.decoder = None if tty else FrameDecoder()
        self.escape = EscapeProxy(keys) if keys else None
        self.stdin_open = streams.stdin_fd is not None

    def _output(self, data: bytes) -> None:
        if self.decoder is None:
            self.streams.out(data)
            return
        for stream, payload in self.decoder.feed(data):
            (self.streams.err if stream == STDERR else self.streams.out)(payload)

    def _input(self) -> bool:
        """Forward one read of stdin; True when the detach sequence was typed."""
        assert self.streams.stdin_fd is not None
        try:
            data = os.read(self.streams.stdin_fd, 32768)
        except OSError:
            data = b""
        if not data:
            self.stdin_open = False
            self.conn.close_write()
            return False
        detached = False
        if self.escape is not None:
            data, detached = self.escape.feed(data)
        if data:
            try:
                self.conn.sendall(data)
            except OSError:
                self.stdin_open = False
        return detached

    def run(self) -> bool:
        """Pump until the connection ends (False) or the user detaches (True)."""
        while True:
            if self.conn.has_pending():
                self._output(self.conn.recv())
                continue
            fds: list[int] = [self.conn.fileno()]
            if self.stdin_open and self.streams.stdin_fd is not None:
                fds.append(self.streams.stdin_fd)
            readable, _, _ = select.select(fds, [], [])
            if self.conn.fileno() in readable:
                try:
                    data = self.conn.recv()
                except OSError:
                    data = b""
                if not data:
                    return False
                self._output(data)
            if self.streams.stdin_fd in readable and self._input():
                return True


def pump(conn: Hijacked, tty: bool, streams: Streams, keys: bytes | None = None) -> bool:
    """Run the copy loop; returns True when the user detached with the key sequence."""
    return Pump(conn, tty, streams, keys).run()


def fd_writer(fd: int) -> Writer:
    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    return write
