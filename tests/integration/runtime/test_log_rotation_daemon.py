"""json-file rotation through the real docker CLI: bounded files, `logs` (and `logs -f`) return
the newest lines in order, LogConfig round-trips; the none driver and unknown drivers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration
ROTATE = ("--log-opt", "max-size=1k", "--log-opt", "max-file=2")


def log_dir(daemon: Any, cid: str) -> Path:
    return daemon.root / "data" / "containers" / cid


def log_sizes(daemon: Any, cid: str) -> dict[str, int]:
    d = log_dir(daemon, cid)
    return {p.name: p.stat().st_size for p in d.iterdir() if p.name.startswith("ctr.log")}


def consecutive_tail(text: str, last: int) -> list[int]:
    kept = [int(n) for n in text.split()]
    assert kept == list(range(kept[0], last + 1)), kept[:5]
    return kept


def test_rotated_logs_are_bounded_and_read_in_order(daemon: Any) -> None:
    r = daemon.docker("run", "-d", *ROTATE, "busybox", "seq", "1", "3000")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    assert daemon.docker("wait", cid).stdout.strip() == "0"
    sizes = log_sizes(daemon, cid)
    assert 1 <= len(sizes) <= 2 and all(s <= 1000 for s in sizes.values()), sizes
    out = daemon.docker("logs", cid)
    assert out.returncode == 0, out.stderr
    kept = consecutive_tail(out.stdout, 3000)
    assert 20 <= len(kept) < 3000  # about two files' worth of ~45-byte k8s-file lines
    assert daemon.docker("logs", "--tail", "3", cid).stdout.split() == ["2998", "2999", "3000"]
    config = json.loads(
        daemon.docker("inspect", "-f", "{{json .HostConfig.LogConfig}}", cid).stdout
    )
    assert config == {"Type": "json-file", "Config": {"max-file": "2", "max-size": "1k"}}
    daemon.docker("rm", cid)


def test_follow_sees_every_line_across_rotations(daemon: Any) -> None:
    script = "sleep 1.5; seq 1 2000"
    cid = daemon.docker("run", "-d", *ROTATE, "busybox", "sh", "-c", script).stdout.strip()
    try:
        follow = daemon.docker("logs", "-f", cid, timeout=60)
        assert follow.returncode == 0, follow.stderr
        assert follow.stdout.split() == [str(n) for n in range(1, 2001)]
        assert all(s <= 1000 for s in log_sizes(daemon, cid).values())
    finally:
        daemon.docker("rm", "-f", cid)


def test_rotation_goes_on_while_the_container_runs(daemon: Any) -> None:
    script = "i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo $i; usleep 2000; done; sleep 60"
    cid = daemon.docker("run", "-d", *ROTATE, "busybox", "sh", "-c", script).stdout.strip()
    try:
        deadline = time.monotonic() + 30
        while "400" not in daemon.docker("logs", "--tail", "1", cid).stdout.split():
            assert time.monotonic() < deadline, "the container never printed 400"
            time.sleep(0.2)
        time.sleep(0.3)  # the watcher reacts to the last writes
        sizes = log_sizes(daemon, cid)
        assert len(sizes) <= 2 and sum(sizes.values()) <= 2 * 1000 + 200, sizes
        consecutive_tail(daemon.docker("logs", cid).stdout, 400)
    finally:
        daemon.docker("rm", "-f", cid)


def test_none_driver_keeps_no_file_and_logs_says_so(daemon: Any) -> None:
    r = daemon.docker("run", "--log-driver", "none", "busybox", "echo", "hi")
    assert (r.returncode, r.stdout) == (0, "hi\n")  # attached output still flows
    cid = daemon.docker("ps", "-lq", "--no-trunc").stdout.strip()
    try:
        assert log_sizes(daemon, cid) == {}
        logs = daemon.docker("logs", cid)
        assert logs.returncode != 0
        assert "configured logging driver does not support reading" in logs.stderr
    finally:
        daemon.docker("rm", cid)


def test_unsupported_driver_and_bad_options_fail_on_create(daemon: Any) -> None:
    before = daemon.docker("ps", "-aq").stdout
    r = daemon.docker("create", "--log-driver", "syslog", "busybox", "true")
    assert r.returncode != 0
    assert "logger: no log driver named 'syslog' is registered" in r.stderr
    r = daemon.docker("create", "--log-opt", "max-file=0", "--log-opt", "max-size=1k", "busybox")
    assert r.returncode != 0 and "max-file cannot be less than 1" in r.stderr
    assert daemon.docker("ps", "-aq").stdout == before  # nothing was created
