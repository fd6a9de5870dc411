"""Entering a network namespace from one thread (setns is per thread for CLONE_NEWNET).

A netlink socket opened inside the namespace stays bound to it after the thread returns, so
callers open their sockets within `entered` and use them afterwards from anywhere.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dockwright.kernel.libc import LIBC, check
from dockwright.kernel.mount import MS_BIND, mount, unmount

CLONE_NEWNET = 0x40000000


def _setns(fd: int, what: str) -> None:
    check(LIBC.setns(fd, CLONE_NEWNET), f"setns {what}")


@contextmanager
def entered(path: str) -> Iterator[None]:
    """Run the block with this thread inside the netns at `path` (e.g. /proc/<pid>/ns/net)."""
    home = os.open(_thread_netns(), os.O_RDONLY | os.O_CLOEXEC)
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


def create_named(path: str) -> None:
    """A new network namespace kept alive by a bind mount on `path` (as `ip netns add` does),
    made from this thread, which returns to its own namespace. On failure nothing is left."""
    home = os.open(_thread_netns(), os.O_RDONLY | os.O_CLOEXEC)
    try:
        check(LIBC.unshare(CLONE_NEWNET), "unshare a network namespace")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
            os.close(fd)
            try:
                mount(_thread_netns(), Path(path), "", MS_BIND)
            except BaseException:
                os.unlink(path)
                raise
        finally:
            _setns(home, "back to the daemon's network namespace")
    finally:
        os.close(home)


def remove_named(path: str) -> None:
    """Undo `create_named` (idempotent): the namespace goes once nothing else holds it."""
    unmount(Path(path))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _thread_netns() -> str:
    return f"/proc/self/task/{threading.get_native_id()}/ns/net"


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
