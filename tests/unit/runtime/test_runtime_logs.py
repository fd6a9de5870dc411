"""k8s-file log parsing, tail/since/until, and following a growing file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dockwright.runtime.logs import (
    LogRecord,
    follow_log,
    format_timestamp,
    parse_line,
    parse_timestamp,
    read_log,
)

pytestmark = pytest.mark.unit

T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z


def line(i: int, stream: str = "stdout", tag: str = "F", msg: str | None = None) -> bytes:
    ts = format_timestamp(T0 + i * 1_000_000_000 + 123)
    text = f"line {i}" if msg is None else msg
    return f"{ts} {stream} {tag} {text}\n".encode()


def test_timestamps_round_trip_with_nanoseconds() -> None:
    assert parse_timestamp("2023-11-14T22:13:20.000000123Z") == T0 + 123
    assert parse_timestamp("2023-11-15T00:13:20.5+02:00") == T0 + 500_000_000
    assert format_timestamp(T0 + 123) == "2023-11-14T22:13:20.000000123Z"
    assert format_timestamp(T0) == "2023-11-14T22:13:20Z"
    assert format_timestamp(T0 + 100_000_000) == "2023-11-14T22:13:20.1Z"


def test_parse_line_full_partial_and_junk() -> None:
    full = parse_line(b"2023-11-14T22:13:20.000000123+00:00 stderr F oops: a b")
    assert full == LogRecord("stderr", T0 + 123, b"oops: a b\n", False)
    assert full.stream_id == 2
    part = parse_line(b"2023-11-14T22:13:20+00:00 stdout P no newline")
    assert part == LogRecord("stdout", T0, b"no newline", True)
    assert parse_line(b"2023-11-14T22:13:20+00:00 stdout F ") == LogRecord(
        "stdout", T0, b"\n", False
    )
    assert parse_line(b"garbage") is None
    assert parse_line(b"notatime stdout F x") is None


def test_read_tail_since_until(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"".join(line(i) for i in range(10)) + b"2023-11-14T22:13:30Z stdout F incompl")
    records, offset = read_log(log)
    assert [r.data for r in records] == [f"line {i}\n".encode() for i in range(10)]
    assert offset == log.read_bytes().rindex(b"\n") + 1
    assert [r.data for r in read_log(log, tail=3)[0]] == [b"line 7\n", b"line 8\n", b"line 9\n"]
    assert read_log(log, tail=0)[0] == []
    assert len(read_log(log, tail=100)[0]) == 10
    window = read_log(log, since_ns=T0 + 2_000_000_123, until_ns=T0 + 4_000_000_123)[0]
    assert [r.data for r in window] == [b"line 2\n", b"line 3\n", b"line 4\n"]
    assert read_log(tmp_path / "missing") == ([], 0)


def test_tail_reads_backwards_over_block_boundaries(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"".join(line(i, msg="x" * 3000) for i in range(100)))
    records, _ = read_log(log, tail=40)
    assert len(records) == 40 and records[0].time_ns == T0 + 60_000_000_000 + 123


class Flag:
    """An asyncio.Event stand-in, to show follow_log needs only is_set() and wait()."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> bool:
        return await self._event.wait()

    def set(self) -> None:
        self._event.set()


def test_follow_yields_old_and_new_lines_then_ends_after_exit(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(line(0) + line(1, "stderr"))

    async def writer(exited: Flag) -> None:
        for i in range(2, 6):
            await asyncio.sleep(0.01)
            with log.open("ab") as f:
                f.write(line(i))
        exited.set()

    async def scenario() -> list[LogRecord]:
        exited = Flag()
        task = asyncio.create_task(writer(exited))
        got = [r async for r in follow_log(log, exited=exited, tail=1)]
        await task
        return got

    got = asyncio.run(asyncio.wait_for(scenario(), 5))
    assert [(r.stream, r.data) for r in got] == [("stderr", b"line 1\n")] + [
        ("stdout", f"line {i}\n".encode()) for i in range(2, 6)
    ]


def test_follow_stops_at_until(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"".join(line(i) for i in range(5)))

    async def scenario() -> list[LogRecord]:
        never = Flag()
        return [r async for r in follow_log(log, exited=never, until_ns=T0 + 1_500_000_000)]

    got = asyncio.run(asyncio.wait_for(scenario(), 5))
    assert [r.data for r in got] == [b"line 0\n", b"line 1\n"]
