"""The one ctypes handle on libc, and the error every failed system call turns into."""

from __future__ import annotations

import ctypes
import os

from dockwright.errors import SystemError_

LIBC = ctypes.CDLL(None, use_errno=True)


class SyscallError(SystemError_):
    """A system call failed; `errno` keeps the kernel's reason for callers that branch on it."""

    def __init__(self, message: str, errno: int) -> None:
        super().__init__(message)
        self.errno = errno


def check(ret: int, what: str) -> int:
    """Return `ret`, or raise SyscallError naming `what` when the call reported failure."""
    if ret < 0:
        err = ctypes.get_errno()
        raise SyscallError(f"{what}: {os.strerror(err).lower()}", err)
    return ret


def encode(path: object) -> bytes:
    """Paths as the C side wants them."""
    return os.fsencode(str(path))
