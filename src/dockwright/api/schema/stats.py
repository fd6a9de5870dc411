"""Docker's stats JSON (types.StatsJSON, cgroup v1 flavour) from an engine StatsFrame.

Go's `omitempty` shapes the output: zero counters inside pids_stats, memory_stats and
storage_stats are left out, so a stopped container's record is mostly empty objects, the
CPU usage zeros and blkio lists null — what Docker sends. `networks` is omitted while the
container has no network interface besides loopback.
"""

from __future__ import annotations

from typing import Any

from dockwright.api.schema.common import ZERO_TIME, rfc3339nano
from dockwright.engine.containers.stats import CgroupStats, StatsFrame

# memory.stat keys Docker copies into memory_stats.stats on cgroup v1.
MEMORY_STAT_KEYS = tuple(
    prefix + key
    for prefix in ("", "total_")
    for key in (
        "cache",
        "rss",
        "rss_huge",
        "mapped_file",
        "dirty",
        "writeback",
        "pgpgin",
        "pgpgout",
        "pgfault",
        "pgmajfault",
        "inactive_anon",
        "active_anon",
        "inactive_file",
        "active_file",
        "unevictable",
    )
) + ("hierarchical_memory_limit", "hierarchical_memsw_limit")

BLKIO_KEYS = (
    "io_service_bytes_recursive",
    "io_serviced_recursive",
    "io_queue_recursive",
    "io_service_time_recursive",
    "io_wait_time_recursive",
    "io_merged_recursive",
    "io_time_recursive",
    "sectors_recursive",
)


def _nonzero(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v}


def cpu_json(s: CgroupStats | None) -> dict[str, Any]:
    if s is None:
        s = CgroupStats(read_at=0.0)
    usage: dict[str, Any] = {"total_usage": s.cpu_total}
    if s.cpu_percpu:
        usage["percpu_usage"] = list(s.cpu_percpu)
    usage.update(usage_in_kernelmode=s.cpu_system, usage_in_usermode=s.cpu_user)
    return {
        "cpu_usage": usage,
        **_nonzero(system_cpu_usage=s.system_cpu_usage, online_cpus=s.online_cpus),
        "throttling_data": {
            "periods": s.throttling_periods,
            "throttled_periods": s.throttled_periods,
            "throttled_time": s.throttled_time,
        },
    }


def memory_json(s: CgroupStats | None, machine_memory: int) -> dict[str, Any]:
    """Usage, peak, v1 counters and the limit (the machine's memory when lower or unlimited)."""
    if s is None:
        return {}
    limit = s.memory_limit if s.memory_limit is not None else machine_memory
    if machine_memory and limit > machine_memory:
        limit = machine_memory
    counters = {k: s.memory_stat.get(k, 0) for k in MEMORY_STAT_KEYS}
    return _nonzero(
        usage=s.memory_usage,
        max_usage=s.memory_max_usage,
        stats=counters if s.memory_stat else None,
        failcnt=s.memory_failcnt,
        limit=limit,
    )


def blkio_json(s: CgroupStats | None) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(BLKIO_KEYS)
    if s is not None and s.blkio_service_bytes:
        out["io_service_bytes_recursive"] = [
            {"major": e.major, "minor": e.minor, "op": e.op, "value": e.value}
            for e in s.blkio_service_bytes
        ]
    return out


def pids_json(s: CgroupStats | None) -> dict[str, Any]:
    if s is None:
        return {}
    return _nonzero(current=s.pids_current, limit=s.pids_limit)


def stats_json(frame: StatsFrame) -> dict[str, Any]:
    """One record of `GET /containers/{id}/stats`."""
    cur, pre = frame.current, frame.previous
    return {
        "read": rfc3339nano(cur.read_at) if cur else ZERO_TIME,
        "preread": rfc3339nano(pre.read_at) if pre else ZERO_TIME,
        "pids_stats": pids_json(cur),
        "blkio_stats": blkio_json(cur),
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu_json(cur),
        "precpu_stats": cpu_json(pre),
        "memory_stats": memory_json(cur, frame.machine_memory),
        "name": frame.name,
        "id": frame.id,
    }
