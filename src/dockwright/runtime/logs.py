"""Reading conmon's k8s-file container logs: `<RFC3339Nano> stdout|stderr F|P <msg>` per line.

conmon writes one line per output line ("F", the newline was part of the output) and splits
longer or unterminated output into "P" (partial) pieces. A record's `data` is the output bytes
exactly: F records end in b"\\n", P records do not.

With rotation (runtime.log_rotation) a log is several files, <log>.N … <log>.1 then <log>;
readers take them oldest first and followers move on to the new live file after a rotation.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from dockwright.kernel.inotify import FileWatch
from dockwright.runtime.log_rotation import log_files

STREAM_IDS = {"stdout": 1, "stderr": 2}
_BLOCK = 64 * 1024


class EventLike(Protocol):
    def is_set(self) -> bool: ...

    async def wait(self) -> object: ...


@dataclass(frozen=True)
class LogRecord:
    stream: str  # "stdout" | "stderr"
    time_ns: int  # Unix time in nanoseconds
    data: bytes
    partial: bool = False

    @property
    def stream_id(self) -> int:
        """Docker's stream number: 1 stdout, 2 stderr."""
        return STREAM_IDS[self.stream]

    @property
    def timestamp(self) -> float:
        return self.time_ns / 1e9

    def rfc3339(self) -> str:
        return format_timestamp(self.time_ns)


def parse_timestamp(text: str) -> int:
    """RFC 3339 with up to nine fraction digits and a Z or ±hh:mm offset -> Unix ns."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    offset = text[-6:]
    main = text[:-6]
    seconds_part, _, fraction = main.partition(".")
    base = datetime.fromisoformat(seconds_part + offset)
    nanos = int((fraction + "000000000")[:9]) if fraction else 0
    return int(base.timestamp()) * 1_000_000_000 + nanos


def format_timestamp(time_ns: int) -> str:
    """Go's RFC3339Nano in UTC, as `docker logs -t` prints (trailing zeros trimmed)."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def parse_line(line: bytes) -> LogRecord | None:
    """One log line (without its final newline); None when it is not in k8s-file form."""
    parts = line.split(b" ", 3)
    if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr") or parts[2] not in (b"F", b"P"):
        return None
    try:
        time_ns = parse_timestamp(parts[0].decode())
    except ValueError:
        return None
    partial = parts[2] == b"P"
    msg = parts[3] if len(parts) > 3 else b""
    return LogRecord(parts[1].decode(), time_ns, msg if partial else msg + b"\n", partial)


def parse_lines(chunk: bytes) -> list[LogRecord]:
    records = (parse_line(line) for line in chunk.split(b"\n") if line)
    return [r for r in records if r is not None]


def in_window(record: LogRecord, since_ns: int | None, until_ns: int | None) -> bool:
    """Docker's rule: since and until are both inclusive."""
    if since_ns is not None and record.time_ns < since_ns:
        return False
    return until_ns is None or record.time_ns <= until_ns


def _tail_start(path: Path, size: int, tail: int) -> int:
    """Offset of the first of the last `tail` complete lines, reading backwards by blocks.

    The newline ending the last complete line is not counted, nor is an unterminated tail.
    """
    with open(path, "rb") as fh:
        pos, newlines, seen_end = size, 0, False
        while pos > 0:
            step = min(_BLOCK, pos)
            pos -= step
            fh.seek(pos)
            block = fh.read(step)
            i = block.rfind(b"\n")
            while i >= 0:
                if seen_end:
                    newlines += 1
                    if newlines == tail:
                        return pos + i + 1
                seen_end = True
                i = block.rfind(b"\n", 0, i)
    return 0


def read_log(
    path: Path, *, tail: int | None = None, since_ns: int | None = None, until_ns: int | None = None
) -> tuple[list[LogRecord], int]:
    """The records now in the log's files, oldest first (the last `tail` of them, then
    filtered), and the offset read to in the live file `path`.

    Only complete lines are read; the offset points just past the last one, so a follower can
    continue from it. A missing file is an empty log.
    """
    files = log_files(path)
    records, offset = _read_file(files[-1], tail)
    for older in reversed(files[:-1]):
        need = None if tail is None or tail < 0 else tail - len(records)
        if need is not None and need <= 0:
            break
        records = _read_file(older, need)[0] + records
    return [r for r in records if in_window(r, since_ns, until_ns)], offset


def _read_file(path: Path, tail: int | None) -> tuple[list[LogRecord], int]:
    """The last `tail` records of one file (all when None or negative) and the offset read to."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return [], 0
    if tail is None or tail < 0:
        start = 0
    elif tail == 0:
        start = size
    else:
        start = _tail_start(path, size, tail)
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(size - start)
    end = data.rfind(b"\n") + 1
    return parse_lines(data[:end]), start + end


async def _first_of(*aws: asyncio.Future[Any]) -> None:
    _done, pending = await asyncio.wait(aws, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()


async def follow_log(
    path: Path,
    *,
    exited: EventLike,
    tail: int | None = None,
    since_ns: int | None = None,
    until_ns: int | None = None,
) -> AsyncIterator[LogRecord]:
    """Yield the log's records, then new ones as conmon writes them (no polling: inotify).

    Ends once `exited` is set and the file is drained (conmon flushes the log before it records
    the exit), or once `until_ns` has passed (a newer record appears, or the clock reaches it).
    """
    path.touch(exist_ok=True)
    with FileWatch(path.parent) as watch:  # the directory: the live file changes on rotation
        records, offset = read_log(path, tail=tail, since_ns=since_ns, until_ns=until_ns)
        for record in records:
            yield record
        with _LiveFile(path, offset) as live:
            while True:
                finished = exited.is_set()
                fresh = live.read()
                for record in fresh:
                    if until_ns is not None and record.time_ns > until_ns:
                        return
                    if in_window(record, since_ns, until_ns):
                        yield record
                if finished or _past(until_ns):
                    return
                if not fresh:
                    waits = [
                        asyncio.ensure_future(watch.changed()),
                        asyncio.ensure_future(exited.wait()),
                    ]
                    if until_ns is not None:
                        waits.append(asyncio.ensure_future(asyncio.sleep(_seconds_until(until_ns))))
                    await _first_of(*waits)


def _past(until_ns: int | None) -> bool:
    return until_ns is not None and time.time_ns() > until_ns


def _seconds_until(until_ns: int) -> float:
    return max(0.0, (until_ns - time.time_ns()) / 1e9)


class _LiveFile:
    """The live log file read from an offset on; after a rotation (another file now has the
    name) the old one is drained, then the new one is read from its start."""

    def __init__(self, path: Path, offset: int) -> None:
        self.path = path
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by __exit__
        self._fh.seek(offset)
        self._pending = b""

    def read(self) -> list[LogRecord]:
        records: list[LogRecord] = []
        while True:
            self._pending += self._fh.read()
            end = self._pending.rfind(b"\n") + 1
            records += parse_lines(self._pending[:end])
            self._pending = self._pending[end:]
            if not self._replaced():
                return records
            self._fh.close()
            self._fh = open(self.path, "rb")  # noqa: SIM115
            self._pending = b""

    def _replaced(self) -> bool:
        try:
            return os.stat(self.path).st_ino != os.fstat(self._fh.fileno()).st_ino
        except FileNotFoundError:
            return False  # between the rename and conmon's reopen

    def __enter__(self) -> _LiveFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()
