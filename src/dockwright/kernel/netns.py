"""Entering a network namespace from one thread (setns is per thread for CLONE_NEWNET).

A netlink socket opened inside the namespace stays bound to it after the thread returns, so
callers open their sockets within `entered` and use them afterwards from anywhere.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dockwright.kernel.libc import LIBC, check

CLONE_NEWNET = 0x40000000


def _setns(fd: int, what: str) -> None:
    check(LIBC.setns(fd, CLONE_NEWNET), f"setns {what}")


@contextmanager
def entered(path: str) -> Iterator[None]:
    """Run the block with this thread inside the netns at `path` (e.g. /proc/<pid>/ns/net)."""
    home = os.open(
        f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY | os.O_CLOEXEC
    )
    try:
        target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target, path)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home, "back to the daemon's network namespace")
    finally:
        os.close(home)


def same_netns(a: str, b: str) -> bool:
    """Whether two namespace paths name the same namespace."""
    sa, sb = os.stat(a), os.stat(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def udp_socket_in(path: str, host: str, port: int) -> socket.socket:
    """A non-blocking UDP socket bound to host:port inside the netns at `path`; it keeps that
    namespace alive until closed."""
    with entered(path):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
