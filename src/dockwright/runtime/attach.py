"""Clients of conmon's per-container endpoints: the attach socket and the ctl fifo.

The attach socket (SOCK_SEQPACKET) carries one packet per read of the container's output,
prefixed by one byte naming the pipe (2 stdout, 3 stderr); what we send is the container's
stdin. Shutting down our write side closes the container's stdin (unless conmon was told to
leave it open). The ctl fifo takes "1 <height> <width>\\n" to resize the terminal.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from pathlib import Path

_CONMON_TO_DOCKER = {2: 1, 3: 2}  # conmon STDOUT_PIPE/STDERR_PIPE -> Docker stream ids
_CHUNK = 8192  # conmon reads at most 32 KiB of one packet; stay well below
RESIZE_EVENT = 1  # conmon's ctl messages: resize the terminal
REOPEN_EVENT = 2  # … reopen the log file


class AttachSession:
    """One connection to a container's (or exec session's) stdio through conmon."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._closed = False

    async def read(self) -> tuple[int, bytes]:
        """The next output chunk as (1 stdout | 2 stderr, data); (0, b"") once output ended."""
        loop = asyncio.get_running_loop()
        while not self._closed:
            try:
                packet = await loop.sock_recv(self._sock, 65536)
            except (ConnectionResetError, OSError):
                return 0, b""
            if not packet:
                return 0, b""
            stream = _CONMON_TO_DOCKER.get(packet[0])
            if stream is not None and len(packet) > 1:
                return stream, packet[1:]
        return 0, b""

    async def write(self, data: bytes) -> None:
        """Send `data` to the container's stdin; ConnectionError once conmon is gone."""
        loop = asyncio.get_running_loop()
        for i in range(0, len(data), _CHUNK):
            await loop.sock_sendall(self._sock, data[i : i + _CHUNK])

    async def close_stdin(self) -> None:
        """End of input: conmon closes the container's stdin (StdinOnce semantics)."""
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._sock.close()


def connect_attach(directory: Path) -> AttachSession:
    """Connect to directory/attach, whatever the length of `directory`."""
    dirfd = os.open(directory, os.O_PATH | os.O_CLOEXEC)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    try:
        sock.connect(f"/proc/self/fd/{dirfd}/attach")
    except BaseException:
        sock.close()
        raise
    finally:
        os.close(dirfd)
    return AttachSession(sock)


def write_resize(directory: Path, height: int, width: int) -> bool:
    """Ask conmon to resize the terminal; False when no conmon listens any more."""
    return write_ctl(directory, RESIZE_EVENT, height, width)


def write_ctl(directory: Path, event: int, a: int = 0, b: int = 0) -> bool:
    """One message on conmon's control fifo (`ctl` in its directory): resize, reopen the log;
    False when no conmon listens any more."""
    try:
        fd = os.open(directory / "ctl", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.ENOENT):
            return False
        raise
    try:
        os.write(fd, f"{event} {a} {b}\n".encode())
    finally:
        os.close(fd)
    return True
