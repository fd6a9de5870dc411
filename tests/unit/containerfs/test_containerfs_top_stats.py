"""`docker top` output filtering and Docker's stats JSON from cgroup samples."""

from __future__ import annotations

import pytest

from dockwright.api.schema.stats import stats_json
from dockwright.engine.containers.stats import (
    CgroupStats,
    StatsFrame,
    parse_ps,
    validate_ps_args,
)
from dockwright.errors import InvalidParameter, SystemError_
from dockwright.kernel.cgroup_stats import BlkioEntry

pytestmark = pytest.mark.unit

PS_EF = """\
UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 06:00 ?        00:00:01 /sbin/init splash
root         100       1  0 06:00 ?        00:00:00 sleep 1000
root         101     100  0 06:00 ?        00:00:00 sh -c echo  hi
daemon       102       1  0 06:00 ?        00:00:00 other
"""


def test_rows_are_filtered_to_the_container_pids():
    top = parse_ps(PS_EF, {100, 101})
    assert top.titles == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert [row[1] for row in top.processes] == ["100", "101"]
    assert top.processes[1][-1] == "sh -c echo hi"  # the last column keeps the rest
    assert all(len(row) == len(top.titles) for row in top.processes)


def test_thread_rows_follow_their_process():
    output = "USER PID TID CMD\nroot 100 - sleep\n- - 100 -\n- - 101 -\nroot 7 - x\n- - 7 -\n"
    top = parse_ps(output, [100])
    assert top.processes == [
        ["root", "100", "-", "sleep"],
        ["-", "-", "100", "-"],
        ["-", "-", "101", "-"],
    ]


def test_no_process_of_the_container():
    assert parse_ps(PS_EF, set()).processes == []


def test_output_without_pid_column_is_an_error():
    with pytest.raises(SystemError_):
        parse_ps("USER COMMAND\nroot x\n", {1})


def test_renaming_a_column_to_pid_is_refused():
    validate_ps_args("-ef")
    validate_ps_args("-o pid=PID,comm")
    with pytest.raises(InvalidParameter, match='specifying "user=PID" is not allowed'):
        validate_ps_args("-o user=PID")


SAMPLE = CgroupStats(
    read_at=1700000001.25,
    memory_usage=10 << 20,
    memory_max_usage=12 << 20,
    memory_limit=None,
    memory_stat={"cache": 4096, "total_inactive_file": 8192, "rss": 1 << 20, "swap": 7},
    cpu_total=3_000_000,
    cpu_percpu=(1_000_000, 2_000_000),
    cpu_user=2_000_000,
    cpu_system=1_000_000,
    system_cpu_usage=900_000_000,
    online_cpus=2,
    throttling_periods=4,
    pids_current=3,
    pids_limit=None,
    blkio_service_bytes=(BlkioEntry(8, 0, "Read", 512),),
)
PREVIOUS = CgroupStats(read_at=1700000000.25, cpu_total=1_000_000, system_cpu_usage=800_000_000)
MACHINE = 24 << 30


def frame(current, previous=None, machine=MACHINE):
    return StatsFrame("/web", "c" * 64, current, previous, machine)


def test_running_sample():
    doc = stats_json(frame(SAMPLE, PREVIOUS))
    assert doc["read"] == "2023-11-14T22:13:21.25Z"
    assert doc["preread"] == "2023-11-14T22:13:20.25Z"
    assert doc["name"] == "/web" and doc["id"] == "c" * 64
    assert doc["pids_stats"] == {"current": 3}
    cpu = doc["cpu_stats"]
    assert cpu["cpu_usage"] == {
        "total_usage": 3_000_000,
        "percpu_usage": [1_000_000, 2_000_000],
        "usage_in_kernelmode": 1_000_000,
        "usage_in_usermode": 2_000_000,
    }
    assert cpu["system_cpu_usage"] == 900_000_000 and cpu["online_cpus"] == 2
    assert cpu["throttling_data"] == {"periods": 4, "throttled_periods": 0, "throttled_time": 0}
    assert doc["precpu_stats"]["cpu_usage"]["total_usage"] == 1_000_000
    assert doc["blkio_stats"]["io_service_bytes_recursive"] == [
        {"major": 8, "minor": 0, "op": "Read", "value": 512}
    ]
    assert doc["blkio_stats"]["io_serviced_recursive"] is None
    assert "networks" not in doc and doc["num_procs"] == 0 and doc["storage_stats"] == {}


def test_memory_uses_docker_keys_and_machine_limit():
    mem = stats_json(frame(SAMPLE))["memory_stats"]
    assert mem["usage"] == 10 << 20 and mem["max_usage"] == 12 << 20
    assert mem["limit"] == MACHINE  # unlimited reads as the machine's memory
    assert "failcnt" not in mem  # zero: omitted like Go's omitempty
    assert mem["stats"]["total_inactive_file"] == 8192 and mem["stats"]["cache"] == 4096
    assert mem["stats"]["pgfault"] == 0 and "swap" not in mem["stats"]


def test_memory_limit_is_capped_by_the_machine():
    from dataclasses import replace

    limited = stats_json(frame(replace(SAMPLE, memory_limit=64 << 20)))["memory_stats"]
    assert limited["limit"] == 64 << 20
    huge = stats_json(frame(replace(SAMPLE, memory_limit=1 << 50)))["memory_stats"]
    assert huge["limit"] == MACHINE


def test_pids_limit_when_set():
    from dataclasses import replace

    assert stats_json(frame(replace(SAMPLE, pids_limit=30)))["pids_stats"] == {
        "current": 3,
        "limit": 30,
    }


def test_stopped_container_gives_docker_zeros():
    doc = stats_json(frame(None))
    assert doc["read"] == doc["preread"] == "0001-01-01T00:00:00Z"
    assert doc["pids_stats"] == {} and doc["memory_stats"] == {}
    assert doc["cpu_stats"] == {
        "cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    }
    assert doc["precpu_stats"] == doc["cpu_stats"]
    assert set(doc["blkio_stats"].values()) == {None}


def test_docker_cli_cpu_percent_from_the_record():
    doc = stats_json(frame(SAMPLE, PREVIOUS))
    cpu, pre = doc["cpu_stats"], doc["precpu_stats"]
    cpu_delta = cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"]
    system_delta = cpu["system_cpu_usage"] - pre["system_cpu_usage"]
    assert cpu_delta / system_delta * cpu["online_cpus"] * 100 == pytest.approx(4.0)
