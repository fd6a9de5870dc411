"""inotify through libc: wait for a file to change instead of polling it (used by `logs -f`)."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from dockwright.kernel.libc import LIBC, check, encode
from dockwright.kernel.procs import wait_readable

IN_MODIFY = 0x2
IN_CLOSE_WRITE = 0x8
IN_MOVE_SELF = 0x800
IN_DELETE_SELF = 0x400
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC

LIBC.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]


class FileWatch:
    """Wakes its owner when a file is written, moved or removed. Close it when done."""

    def __init__(self, path: Path) -> None:
        self._fd = check(LIBC.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC), "inotify_init1")
        mask = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVE_SELF | IN_DELETE_SELF
        try:
            check(LIBC.inotify_add_watch(self._fd, encode(path), mask), f"watch {path}")
        except BaseException:
            os.close(self._fd)
            raise

    async def changed(self) -> None:
        """Return once at least one event arrived since the last call (events are drained)."""
        if not self._drain():
            await wait_readable(self._fd)
            self._drain()

    def _drain(self) -> bool:
        got = False
        while True:
            try:
                got = bool(os.read(self._fd, 65536)) or got
            except BlockingIOError:
                return got

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> FileWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
