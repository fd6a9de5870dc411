"""Watching processes that are not our children (conmon after its double fork) without polling."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


def open_pidfd(pid: int) -> int | None:
    """A pidfd for `pid`, or None when no such process exists."""
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None


async def wait_readable(fd: int) -> None:
    """Wait until `fd` is readable (a pidfd becomes readable when its process exits)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await done
    finally:
        loop.remove_reader(fd)


async def wait_pidfd(fd: int) -> None:
    """Wait for the process behind `fd` to exit; the caller keeps ownership of `fd`."""
    await wait_readable(fd)


def read_cmdline(pid: int) -> list[str]:
    """argv of `pid` ([] when it is gone or a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [os.fsdecode(a) for a in raw.split(b"\0")[:-1]]


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")
