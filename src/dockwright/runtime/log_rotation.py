"""Rotating a container's k8s-file log the way Docker's json-file driver bounds its files.

conmon writes the log; its own --log-size-max would *replace* the file (the old lines are lost),
so the daemon rotates instead, as kubelet does with CRI runtimes:

    <log>        the live file conmon appends to
    <log>.1      the newest rotated file ... <log>.<max-file - 1> the oldest one kept

When <log> reaches max-size: shift <log>.N -> <log>.N+1 (dropping what no longer fits), rename
<log> -> <log>.1 and ask conmon to reopen its log (message 2 on the bundle's `ctl` fifo; conmon
then creates a new <log>). Output written between the rename and the reopen still lands in
<log>.1, so lines stay in order. A burst can make <log>.1 longer than max-size before conmon
reopens: it is then cut into max-size pieces (at line ends) and only the newest pieces are kept,
so every kept file holds at most max-size bytes (a single longer line excepted) and together the
files are the newest lines without a gap. Readers (runtime.logs) read the files oldest first.

The rotation runs only while a daemon watches the container (`keep_rotated`); when the daemon is
down the live file grows until the restarted daemon's watcher rotates it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from dockwright.kernel.inotify import FileWatch
from dockwright.runtime.attach import REOPEN_EVENT, write_ctl
from dockwright.runtime.log_options import RotationPolicy

__all__ = [
    "keep_rotated",
    "log_files",
    "rotate_once",
    "rotated_path",
    "settle_plan",
    "shift_plan",
    "split_pieces",
]

log = logging.getLogger("dockwright.runtime.logs")
_REOPEN_WAIT = 2.0  # seconds conmon gets to create the new live file
Op = tuple[str, int, int]  # ("unlink", n, 0) | ("rename", n, m) | ("write", slot, piece index)


def rotated_path(path: Path, n: int) -> Path:
    return path.with_name(f"{path.name}.{n}")


def rotated_numbers(path: Path) -> list[int]:
    """The N of every existing <log>.N, ascending."""
    prefix = path.name + "."
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    return sorted(int(n[len(prefix) :]) for n in names if _is_rotated(n, prefix))


def _is_rotated(name: str, prefix: str) -> bool:
    return name.startswith(prefix) and name[len(prefix) :].isdigit()


def log_files(path: Path) -> list[Path]:
    """Every file of the log, oldest first: <log>.N … <log>.1, then <log> itself."""
    return [rotated_path(path, n) for n in reversed(rotated_numbers(path))] + [path]


def split_pieces(data: bytes, max_size: int) -> list[bytes]:
    """The complete lines of `data` cut into consecutive pieces of at most max_size bytes
    (a longer line is a piece of its own), oldest first; filled from the newest end."""
    end = data.rfind(b"\n") + 1
    lines = data[:end].splitlines(keepends=True)
    pieces: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in reversed(lines):
        if current and size + len(line) > max_size:
            pieces.append(b"".join(reversed(current)))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        pieces.append(b"".join(reversed(current)))
    return list(reversed(pieces))


def shift_plan(existing: Sequence[int], keep: int) -> list[Op]:
    """Make room for a new <log>.1: every <log>.N moves to N+1, or goes when N+1 > keep."""
    return _moves(existing, 1, keep)


def settle_plan(older: Sequence[int], pieces: int, keep: int) -> list[Op]:
    """<log>.1 became `pieces` pieces: older files move down by pieces-1, the pieces take
    slots 1..pieces (newest in slot 1), and nothing beyond `keep` slots stays."""
    ops = _moves(older, pieces - 1, keep) if pieces > 1 else []
    for slot in range(min(pieces, keep), 0, -1):
        if pieces > 1 or slot > 1:
            ops.append(("write", slot, pieces - slot))
    if keep == 0 or pieces == 0:
        ops.append(("unlink", 1, 0))
    return ops


def _moves(existing: Sequence[int], by: int, keep: int) -> list[Op]:
    ops: list[Op] = []
    for n in sorted(existing, reverse=True):
        if n + by > keep:
            ops.append(("unlink", n, 0))
        elif by:
            ops.append(("rename", n, n + by))
    return ops


def _apply(path: Path, ops: Sequence[Op], pieces: Sequence[bytes] = ()) -> None:
    for op, a, b in ops:
        if op == "unlink":
            rotated_path(path, a).unlink(missing_ok=True)
        elif op == "rename":
            os.replace(rotated_path(path, a), rotated_path(path, b))
        else:
            tmp = path.with_name(f"{path.name}.tmp-rotate")
            tmp.write_bytes(pieces[b])
            os.replace(tmp, rotated_path(path, a))


def request_reopen(bundle: Path) -> bool:
    """Ask the container's conmon to reopen its log; False when no conmon listens."""
    return write_ctl(bundle, REOPEN_EVENT)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _move_live_file(path: Path, policy: RotationPolicy, bundle: Path | None) -> bool:
    """Shift the rotated files, rename the live one to <log>.1, ask conmon to reopen.
    No await in between: a cancelled daemon never leaves the rename without the reopen."""
    _apply(path, shift_plan(rotated_numbers(path), max(policy.max_file - 1, 1)))
    os.replace(path, rotated_path(path, 1))
    return bundle is not None and request_reopen(bundle)


def _settle(path: Path, policy: RotationPolicy) -> None:
    """Cut an oversized <log>.1 into pieces; drop what exceeds max-file."""
    keep = policy.max_file - 1
    first = rotated_path(path, 1)
    if keep > 0 and _size(first) <= policy.max_size:
        return
    pieces = split_pieces(first.read_bytes(), policy.max_size) if keep > 0 else []
    older = [n for n in rotated_numbers(path) if n > 1]
    _apply(path, settle_plan(older, len(pieces), keep), pieces)


async def rotate_once(path: Path, policy: RotationPolicy, bundle: Path | None) -> None:
    """Rotate the live file now; `bundle` None (or no conmon) means nobody writes it any more."""
    if await asyncio.to_thread(_move_live_file, path, policy, bundle):
        await _wait_for_file(path)
    await asyncio.to_thread(_settle, path, policy)


async def _wait_for_file(path: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _REOPEN_WAIT
    while not path.exists() and loop.time() < deadline:
        await asyncio.sleep(0.002)


async def _rotate_while_running(
    path: Path, bundle: Path, policy: RotationPolicy, stopped: asyncio.Event
) -> None:
    """Rotate whenever the live file reaches max-size; after `stopped`, one last pass."""
    try:
        watch = FileWatch(path.parent)
    except OSError as exc:
        log.warning("cannot watch %s for rotation: %s", path, exc)
        return
    with watch:
        while True:
            done = stopped.is_set()
            try:
                if _size(path) >= policy.max_size:
                    await rotate_once(path, policy, None if done else bundle)
            except OSError as exc:
                log.warning("cannot rotate %s: %s", path, exc)
            if done:
                return
            waits = [asyncio.ensure_future(watch.changed()), asyncio.ensure_future(stopped.wait())]
            _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()


@asynccontextmanager
async def keep_rotated(
    path: Path, bundle: Path, policy: RotationPolicy | None
) -> AsyncIterator[None]:
    """Rotate the container's log while the body runs (the body waits for the exit).

    A normal exit of the body lets the rotator make a last pass; cancellation (daemon
    shutdown) stops it at once, leaving consistent files behind.
    """
    if policy is None:
        yield
        return
    stopped = asyncio.Event()
    task = asyncio.ensure_future(_rotate_while_running(path, bundle, policy, stopped))
    try:
        yield
    except BaseException:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    stopped.set()
    await asyncio.gather(task, return_exceptions=True)
