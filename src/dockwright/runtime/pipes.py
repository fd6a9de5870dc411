"""The pipes conmon talks to its parent through (_OCI_SYNCPIPE, _OCI_STARTPIPE, _OCI_ATTACHPIPE)."""

from __future__ import annotations

import json
import os
from typing import Any

from dockwright.kernel.procs import wait_readable


class MessagePipe:
    """Our end of a pipe on which conmon writes one JSON object per line, e.g. {"data": 1234}."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self._fd = fd
        self._buf = b""

    async def message(self) -> dict[str, Any] | None:
        """The next message, or None once conmon closed the pipe without one."""
        while b"\n" not in self._buf:
            chunk = await self._read()
            if not chunk:
                break
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        if not line.strip():
            return None
        value = json.loads(line.decode(errors="replace"))
        return value if isinstance(value, dict) else None

    async def _read(self) -> bytes:
        while True:
            try:
                return os.read(self._fd, 4096)
            except BlockingIOError:
                await wait_readable(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def pipe_pair() -> tuple[int, int]:
    """(read end, write end), both close-on-exec; the child's end is handed over by pass_fds."""
    return os.pipe2(os.O_CLOEXEC)


def poke(fd: int) -> None:
    """Release conmon from a read on its start pipe (a conmon that already died is ignored:
    the next read of its other pipes reports the failure)."""
    try:
        os.write(fd, b"\0")
    except BrokenPipeError:
        pass
