"""The hybrid cgroup fix, cgroup stats and cleanup, device listing and inotify on this machine."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dockwright.kernel.cgroup_stats import read_stats
from dockwright.kernel.cgroups import (
    CGROUP_ROOT,
    cgroup_dirs,
    cgroup_mounts,
    prepare_hybrid_for_crun,
    remove_cgroup,
)
from dockwright.kernel.devices import host_devices
from dockwright.kernel.inotify import FileWatch

pytestmark = pytest.mark.integration


def test_prepare_hybrid_is_idempotent_and_safe_in_parallel() -> None:
    script = "from dockwright.kernel.cgroups import prepare_hybrid_for_crun as p; print(p())"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=60)[0].decode().strip() for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sum(out != "[]" for out in outs) <= 1  # at most one of them had anything to move
    assert (CGROUP_ROOT / "unified/cgroup.controllers").read_text().split() == []
    assert prepare_hybrid_for_crun() == []
    hugetlb = [m for m in cgroup_mounts() if "hugetlb" in m.controllers]
    points = [
        m for m in Path("/proc/self/mountinfo").read_text().splitlines() if m.endswith(",hugetlb")
    ]
    assert len(hugetlb) == 1 and len(points) == 1


def test_stats_of_a_process_in_its_own_cgroup_then_cleanup() -> None:
    path = f"/dockwright-test-kernel-{os.getpid()}"
    dirs = cgroup_dirs(path)
    # Spins for a moment after being moved, so its CPU time lands in the new cgroup.
    sleeper = subprocess.Popen(
        ["sh", "-c", "read go; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; sleep 100"],
        stdin=subprocess.PIPE,
    )
    try:
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
            if d.parts[4] in ("memory", "cpuacct", "pids"):
                (d / "cgroup.procs").write_text(str(sleeper.pid))
        (next(d for d in dirs if d.parts[4] == "pids") / "pids.max").write_text("7")
        assert sleeper.stdin is not None
        sleeper.stdin.write(b"go\n")
        sleeper.stdin.close()
        deadline = time.monotonic() + 10
        while read_stats(path).pids_current < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # the loop runs in sh; "sleep 100" is its child at the end
        stats = read_stats(path)
        assert stats.pids_current == 2 and stats.pids_limit == 7
        assert (
            stats.cpu_total > 0
            and stats.memory_limit is None
            and len(stats.cpu_percpu) == os.cpu_count()
        )
        assert remove_cgroup(path) != []  # busy while the process lives
    finally:
        procs = next(d for d in dirs if d.parts[4] == "pids") / "cgroup.procs"
        sleeper.kill()
        for pid in procs.read_text().split() if procs.exists() else []:  # our sh's child sleep
            os.kill(int(pid), signal.SIGKILL)
        sleeper.wait()
        deadline = time.monotonic() + 10
        while procs.exists() and procs.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert remove_cgroup(path) == []
    assert not any(d.exists() for d in dirs)


def test_host_devices_lists_char_devices() -> None:
    devices = {d.path: d for d in host_devices()}
    null = devices["/dev/null"]
    assert (null.type, null.major, null.minor) == ("c", 1, 3)
    assert not any(p.startswith("/dev/pts/") for p in devices)


def test_file_watch_wakes_on_append() -> None:
    async def scenario(path: Path) -> None:
        with FileWatch(path) as watch:
            waiter = asyncio.create_task(watch.changed())
            await asyncio.sleep(0.05)
            assert not waiter.done()
            with path.open("a") as f:
                f.write("x")
            await asyncio.wait_for(waiter, 5)

    with tempfile.NamedTemporaryFile() as f:
        asyncio.run(scenario(Path(f.name)))
