"""Log options (Docker's LogConfig rules) and rotation of k8s-file logs over plain files."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from dockwright.errors import InvalidParameter, NotImplementedYet
from dockwright.runtime.log_options import (
    RotationPolicy,
    check_readable,
    merge_log_config,
    parse_human_size,
    rotation_policy,
)
from dockwright.runtime.log_rotation import (
    keep_rotated,
    log_files,
    rotate_once,
    settle_plan,
    shift_plan,
    split_pieces,
)
from dockwright.runtime.logs import follow_log, read_log

pytestmark = pytest.mark.unit


def line(n: int) -> bytes:
    return f"2024-01-02T03:04:05.{n:09d}Z stdout F {n}\n".encode()


def numbers(path: Path, tail: int | None = None) -> list[int]:
    records, _ = read_log(path, tail=tail)
    return [int(r.data) for r in records]


# -- options


def test_daemon_options_fill_in_for_the_same_driver() -> None:
    merged = merge_log_config(
        {"Type": "", "Config": {"max-size": "1k"}}, "json-file", {"max-file": "3", "max-size": "9m"}
    )
    assert merged == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "1k"}}
    other = merge_log_config({"Type": "none", "Config": {}}, "json-file", {"max-file": "3"})
    assert other == {"Type": "none", "Config": {}}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"Type": "syslog"}, "logger: no log driver named 'syslog' is registered"),
        (
            {"Type": "json-file", "Config": {"bogus": "1"}},
            "unknown log opt 'bogus' for json-file log driver",
        ),
        ({"Type": "json-file", "Config": {"max-size": "0"}}, "max-size must be a positive number"),
        ({"Type": "json-file", "Config": {"max-size": "1x"}}, "invalid size: '1x'"),
        ({"Type": "json-file", "Config": {"max-file": "0"}}, "max-file cannot be less than 1"),
        ({"Type": "json-file", "Config": {"mode": "fast"}}, "logging mode not supported: fast"),
        (
            {"Type": "json-file", "Config": {"compress": "true", "max-size": "1k"}},
            "compress cannot be true when max-file is less than 2",
        ),
    ],
)
def test_bad_log_configs_have_dockers_errors(config: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        merge_log_config(config, "json-file", {})


def test_rotation_policies() -> None:
    assert rotation_policy({"Type": "json-file", "Config": {}}) is None
    assert rotation_policy(
        {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}
    ) == RotationPolicy(10_000_000, 3)
    assert rotation_policy({"Type": "local", "Config": {}}) == RotationPolicy(20 * 2**20, 5)
    assert rotation_policy({"Type": "none"}) is None
    assert parse_human_size("1.5k") == 1500 and parse_human_size("2MiB") == 2 * 2**20


def test_none_driver_cannot_be_read() -> None:
    with pytest.raises(
        NotImplementedYet, match="configured logging driver does not support reading"
    ):
        check_readable({"Type": "none", "Config": {}})
    check_readable({"Type": "json-file", "Config": {}})


# -- planning


def test_split_pieces_keeps_lines_whole_and_fills_from_the_newest_end() -> None:
    assert split_pieces(b"aa\nbb\ncc\ndd\nee", 6) == [b"aa\nbb\n", b"cc\ndd\n"]
    assert split_pieces(b"aa\nbb\ncc\n", 6) == [b"aa\n", b"bb\ncc\n"]
    assert split_pieces(b"a-very-long-line\nb\n", 4) == [b"a-very-long-line\n", b"b\n"]
    assert split_pieces(b"", 4) == []


def test_shift_plan_moves_down_and_drops_what_no_longer_fits() -> None:
    assert shift_plan([1, 2], keep=2) == [("unlink", 2, 0), ("rename", 1, 2)]
    assert shift_plan([1], keep=3) == [("rename", 1, 2)]


def test_settle_plan_places_pieces_newest_first() -> None:
    assert settle_plan([2, 3], pieces=3, keep=4) == [
        ("unlink", 3, 0),
        ("rename", 2, 4),
        ("write", 3, 0),
        ("write", 2, 1),
        ("write", 1, 2),
    ]
    assert settle_plan([2], pieces=3, keep=1) == [("unlink", 2, 0), ("write", 1, 2)]
    assert settle_plan([], pieces=1, keep=2) == []
    assert settle_plan([], pieces=0, keep=0) == [("unlink", 1, 0)]


# -- acting on files


def write_lines(path: Path, first: int, last: int) -> None:
    with open(path, "ab") as fh:
        fh.write(b"".join(line(n) for n in range(first, last + 1)))


def test_rotation_keeps_the_newest_lines_in_order_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    policy = RotationPolicy(max_size=200, max_file=3)
    write_lines(path, 1, 4)
    asyncio.run(rotate_once(path, policy, None))
    write_lines(path, 5, 40)  # a burst: far more than max-size before the next rotation
    asyncio.run(rotate_once(path, policy, None))
    files = log_files(path)
    assert [f.name for f in files] == ["ctr.log.2", "ctr.log.1", "ctr.log"]
    assert all(f.stat().st_size <= 200 for f in files if f.exists())
    kept = numbers(path)
    assert kept == list(range(kept[0], 41)) and len(kept) >= 6
    assert numbers(path, tail=3) == [38, 39, 40]
    assert numbers(path, tail=0) == []


def test_max_file_one_drops_the_rotated_file(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    write_lines(path, 1, 10)
    asyncio.run(rotate_once(path, RotationPolicy(100, 1), None))
    assert sorted(os.listdir(tmp_path)) == []
    write_lines(path, 11, 12)
    assert numbers(path) == [11, 12]


def test_read_log_tail_spans_rotated_files(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    write_lines(tmp_path / "ctr.log.2", 1, 3)
    write_lines(tmp_path / "ctr.log.1", 4, 6)
    write_lines(path, 7, 8)
    assert numbers(path) == list(range(1, 9))
    assert numbers(path, tail=5) == [4, 5, 6, 7, 8]


def test_watcher_rotates_while_running_and_makes_a_last_pass(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    path.touch()
    policy = RotationPolicy(max_size=300, max_file=2)

    async def scenario() -> None:
        async with keep_rotated(path, tmp_path, policy):  # no conmon: no ctl fifo to write
            for n in range(1, 61):
                write_lines(path, n, n)
                await asyncio.sleep(0.001)

    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert len(log_files(path)) <= 2
    assert all(f.stat().st_size <= 300 for f in log_files(path) if f.exists())
    kept = numbers(path)
    assert kept and kept == list(range(kept[0], 61))


def test_follow_moves_on_to_the_new_live_file(tmp_path: Path) -> None:
    path = tmp_path / "ctr.log"
    write_lines(path, 1, 2)

    class Exited(asyncio.Event):
        pass

    async def scenario() -> list[int]:
        exited = Exited()
        seen: list[int] = []

        async def writer() -> None:
            await asyncio.sleep(0.05)
            write_lines(path, 3, 4)
            os.replace(path, tmp_path / "ctr.log.1")  # rotated; the old file gets one more line
            write_lines(tmp_path / "ctr.log.1", 5, 5)
            await asyncio.sleep(0.05)
            write_lines(path, 6, 7)
            await asyncio.sleep(0.05)
            exited.set()

        task = asyncio.ensure_future(writer())
        async for record in follow_log(path, exited=exited):
            seen.append(int(record.data))
        await task
        return seen

    assert asyncio.run(asyncio.wait_for(scenario(), 10)) == [1, 2, 3, 4, 5, 6, 7]
