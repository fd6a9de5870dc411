"""A container's resource usage read from its cgroup v1 controllers (the source of `docker stats`).

Parsing is pure (text in, numbers out); `read_stats` only finds and reads the files. A controller
or file that is missing reads as zero, so a container whose cgroup is gone yields an all-zero
sample instead of an error, as Docker reports for a stopped container.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dockwright.kernel.cgroups import CgroupMount, cgroup_mounts, controller_dir

NANOS = 1_000_000_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_UNLIMITED = 0x7FFFFFFFFFFFF000  # what v1 memory.limit_in_bytes reads when no limit is set


@dataclass(frozen=True)
class BlkioEntry:
    major: int
    minor: int
    op: str
    value: int


@dataclass(frozen=True)
class CgroupStats:
    """One sample. CPU times are nanoseconds; `memory_limit` is None when unlimited."""

    read_at: float
    memory_usage: int = 0
    memory_max_usage: int = 0
    memory_limit: int | None = None
    memory_failcnt: int = 0
    memory_stat: Mapping[str, int] = field(default_factory=dict)
    cpu_total: int = 0
    cpu_percpu: tuple[int, ...] = ()
    cpu_user: int = 0
    cpu_system: int = 0
    system_cpu_usage: int = 0
    online_cpus: int = 0
    throttling_periods: int = 0
    throttled_periods: int = 0
    throttled_time: int = 0
    pids_current: int = 0
    pids_limit: int | None = None
    blkio_service_bytes: tuple[BlkioEntry, ...] = ()


def parse_int(text: str) -> int:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else 0


def parse_flat_keyed(text: str) -> dict[str, int]:
    """Files of "key value" lines (memory.stat, cpu.stat, cpuacct.stat)."""
    result = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key and value.strip().lstrip("-").isdigit():
            result[key] = int(value)
    return result


def parse_percpu(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split())


def parse_limit(text: str) -> int | None:
    """A v1 limit file ("max" for pids, a huge number for memory) as None when unlimited."""
    text = text.strip()
    if not text or text == "max":
        return None
    value = int(text)
    return None if value >= _UNLIMITED else value


def parse_blkio(text: str) -> tuple[BlkioEntry, ...]:
    """blkio.*io_service_bytes*: "MAJ:MIN Op value" lines, then a "Total value" line."""
    entries = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or ":" not in parts[0]:
            continue
        major, minor = parts[0].split(":")
        entries.append(BlkioEntry(int(major), int(minor), parts[1], int(parts[2])))
    return tuple(entries)


def parse_proc_stat_cpu(text: str) -> int:
    """Host CPU time in ns from /proc/stat's "cpu" line: user..softirq, as Docker sums it."""
    for line in text.splitlines():
        if line.startswith("cpu "):
            ticks = sum(int(v) for v in line.split()[1:8])
            return ticks * NANOS // CLOCK_TICKS
    return 0


def _read(path: Path | None, name: str) -> str:
    if path is None:
        return ""
    try:
        return (path / name).read_text()
    except OSError:
        return ""


def _first_existing(path: Path | None, names: Iterable[str]) -> str:
    for name in names:
        text = _read(path, name)
        if text:
            return text
    return ""


def read_stats(cgroups_path: str, mounts: Iterable[CgroupMount] | None = None) -> CgroupStats:
    """Sample the cgroup at `cgroups_path` (the OCI linux.cgroupsPath) in each v1 hierarchy."""
    mounts = list(cgroup_mounts() if mounts is None else mounts)
    mem = controller_dir(cgroups_path, "memory", mounts)
    acct = controller_dir(cgroups_path, "cpuacct", mounts)
    cpu = controller_dir(cgroups_path, "cpu", mounts)
    pids = controller_dir(cgroups_path, "pids", mounts)
    blkio = controller_dir(cgroups_path, "blkio", mounts)
    acct_stat = parse_flat_keyed(_read(acct, "cpuacct.stat"))
    throttle = parse_flat_keyed(_read(cpu, "cpu.stat"))
    blkio_text = _first_existing(
        blkio, ("blkio.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive")
    )
    return CgroupStats(
        read_at=time.time(),
        memory_usage=parse_int(_read(mem, "memory.usage_in_bytes")),
        memory_max_usage=parse_int(_read(mem, "memory.max_usage_in_bytes")),
        memory_limit=parse_limit(_read(mem, "memory.limit_in_bytes")),
        memory_failcnt=parse_int(_read(mem, "memory.failcnt")),
        memory_stat=parse_flat_keyed(_read(mem, "memory.stat")),
        cpu_total=parse_int(_read(acct, "cpuacct.usage")),
        cpu_percpu=parse_percpu(_read(acct, "cpuacct.usage_percpu")),
        cpu_user=acct_stat.get("user", 0) * NANOS // CLOCK_TICKS,
        cpu_system=acct_stat.get("system", 0) * NANOS // CLOCK_TICKS,
        system_cpu_usage=parse_proc_stat_cpu(_read(Path("/proc"), "stat")),
        online_cpus=len(os.sched_getaffinity(0)),
        throttling_periods=throttle.get("nr_periods", 0),
        throttled_periods=throttle.get("nr_throttled", 0),
        throttled_time=throttle.get("throttled_time", 0),
        pids_current=parse_int(_read(pids, "pids.current")),
        pids_limit=parse_limit(_read(pids, "pids.max")),
        blkio_service_bytes=parse_blkio(blkio_text),
    )
