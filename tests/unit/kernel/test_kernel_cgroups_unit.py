"""Cgroup hierarchy discovery, the hybrid-layout fix plan, and stats parsing, on fake trees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockwright.kernel.caps import CAPABILITIES, capabilities_from_mask, parse_cap_bounding
from dockwright.kernel.cgroup_stats import (
    BlkioEntry,
    parse_blkio,
    parse_flat_keyed,
    parse_limit,
    parse_proc_stat_cpu,
    read_stats,
)
from dockwright.kernel.cgroups import (
    CgroupMount,
    cgroup_dirs,
    cgroup_mounts,
    cgroup_pids,
    controller_dir,
    plan_hybrid_fix,
    prepare_hybrid_for_crun,
    remove_cgroup,
)
from dockwright.kernel.fakes import MountCall, RecordingMounter
from dockwright.kernel.mount import parse_mountinfo

pytestmark = pytest.mark.unit

MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
42 31 0:39 / /sys/fs/cgroup/hugetlb rw - cgroup cgroup rw,hugetlb
43 31 0:39 / /elsewhere/hugetlb rw - cgroup cgroup rw,hugetlb
"""


def test_cgroup_mounts_lists_each_hierarchy_once() -> None:
    mounts = cgroup_mounts(parse_mountinfo(MOUNTINFO))
    assert [(str(m.path), m.version, sorted(m.controllers)) for m in mounts] == [
        ("/sys/fs/cgroup/cpu", 1, ["cpu"]),
        ("/sys/fs/cgroup/cpuacct", 1, ["cpuacct"]),
        ("/sys/fs/cgroup/memory", 1, ["memory"]),
        ("/sys/fs/cgroup/systemd", 1, ["name=systemd"]),
        ("/sys/fs/cgroup/unified", 2, []),
        ("/sys/fs/cgroup/hugetlb", 1, ["hugetlb"]),
    ]
    assert cgroup_dirs("/dw/abc", mounts)[0] == Path("/sys/fs/cgroup/cpu/dw/abc")
    assert len(cgroup_dirs("/dw/abc", mounts)) == 6
    assert cgroup_dirs("/../etc", mounts) == [] and cgroup_dirs("/", mounts) == []
    assert controller_dir("dw/abc", "memory", mounts) == Path("/sys/fs/cgroup/memory/dw/abc")
    assert controller_dir("dw/abc", "pids", mounts) is None


def test_plan_and_prepare_hybrid_with_a_fake_tree(tmp_path: Path) -> None:
    assert plan_hybrid_fix(["misc", "hugetlb", ""], tmp_path) == [
        ("hugetlb", tmp_path / "hugetlb"),
        ("misc", tmp_path / "misc"),
    ]
    (tmp_path / "unified").mkdir()
    controllers = tmp_path / "unified/cgroup.controllers"
    controllers.write_text("hugetlb\n")
    mounter = RecordingMounter()
    moved = prepare_hybrid_for_crun(tmp_path, mounter, tmp_path / "lock")
    assert moved == ["hugetlb"]
    assert mounter.calls == [
        MountCall("mount", tmp_path / "hugetlb", "cgroup", "cgroup", 0, "hugetlb")
    ]
    assert (tmp_path / "hugetlb").is_dir()
    controllers.write_text("\n")  # what the kernel shows once the controller moved
    assert prepare_hybrid_for_crun(tmp_path, mounter, tmp_path / "lock") == []
    assert len(mounter.calls) == 1


def test_pure_v1_or_v2_hosts_are_left_alone(tmp_path: Path) -> None:
    mounter = RecordingMounter()
    assert prepare_hybrid_for_crun(tmp_path, mounter, tmp_path / "lock") == []
    assert mounter.calls == []


def test_remove_cgroup_removes_directories_only(tmp_path: Path) -> None:
    mounts = [
        CgroupMount(tmp_path / "memory", 1, frozenset({"memory"})),
        CgroupMount(tmp_path / "pids", 1, frozenset({"pids"})),
    ]
    (tmp_path / "memory/dw/c1/child").mkdir(parents=True)
    (tmp_path / "pids/dw/c1").mkdir(parents=True)
    (tmp_path / "pids/dw/c1/busy-file").write_text(
        "x"
    )  # a real cgroup dir cannot be rmdir'ed while busy
    busy = remove_cgroup("/dw/c1", mounts)
    assert not (tmp_path / "memory/dw/c1").exists()
    assert busy == [tmp_path / "pids/dw/c1"]
    assert (tmp_path / "memory/dw").is_dir()


def test_cgroup_pids_include_child_cgroups(tmp_path: Path) -> None:
    mounts = [CgroupMount(tmp_path / "pids", 1, frozenset({"pids"}))]
    (tmp_path / "pids/dw/c1/sub").mkdir(parents=True)
    (tmp_path / "pids/dw/c1/cgroup.procs").write_text("30\n10\n")
    (tmp_path / "pids/dw/c1/sub/cgroup.procs").write_text("20\n")
    assert cgroup_pids("/dw/c1", mounts) == [10, 20, 30]
    assert cgroup_pids("/dw/none", mounts) == []
    assert cgroup_pids("/dw/c1", []) == []


def test_stat_parsers() -> None:
    assert parse_flat_keyed("cache 10\nrss 20\nbad\n") == {"cache": 10, "rss": 20}
    assert parse_limit("max\n") is None and parse_limit("9223372036854771712\n") is None
    assert parse_limit("67108864\n") == 67108864
    blkio = parse_blkio("8:0 Read 4096\n8:0 Write 0\n8:0 Total 4096\nTotal 4096\n")
    assert blkio == (
        BlkioEntry(8, 0, "Read", 4096),
        BlkioEntry(8, 0, "Write", 0),
        BlkioEntry(8, 0, "Total", 4096),
    )
    stat = "cpu  100 0 50 800 10 0 40 7 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
    assert parse_proc_stat_cpu(stat) == 1000 * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def test_read_stats_from_a_fake_tree(tmp_path: Path) -> None:
    files = {
        "memory/dw/c1/memory.usage_in_bytes": "4096\n",
        "memory/dw/c1/memory.max_usage_in_bytes": "8192\n",
        "memory/dw/c1/memory.limit_in_bytes": "67108864\n",
        "memory/dw/c1/memory.failcnt": "0\n",
        "memory/dw/c1/memory.stat": "cache 100\nrss 200\n",
        "cpuacct/dw/c1/cpuacct.usage": "5000\n",
        "cpuacct/dw/c1/cpuacct.usage_percpu": "3000 2000 \n",
        "pids/dw/c1/pids.current": "3\n",
        "pids/dw/c1/pids.max": "max\n",
        "blkio/dw/c1/blkio.throttle.io_service_bytes_recursive": "8:0 Read 512\nTotal 512\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    mounts = [
        CgroupMount(tmp_path / c, 1, frozenset({c}))
        for c in ("memory", "cpuacct", "cpu", "pids", "blkio")
    ]
    s = read_stats("/dw/c1", mounts)
    assert (s.memory_usage, s.memory_max_usage, s.memory_limit) == (4096, 8192, 67108864)
    assert s.memory_stat == {"cache": 100, "rss": 200}
    assert (s.cpu_total, s.cpu_percpu) == (5000, (3000, 2000))
    assert (s.pids_current, s.pids_limit) == (3, None)
    assert s.blkio_service_bytes == (BlkioEntry(8, 0, "Read", 512),)
    assert s.system_cpu_usage > 0 and s.online_cpus >= 1 and s.throttled_periods == 0
    gone = read_stats("/dw/gone", mounts)
    assert (gone.memory_usage, gone.cpu_total, gone.pids_current) == (0, 0, 0)


def test_capability_masks() -> None:
    assert capabilities_from_mask(0b101) == ("CAP_CHOWN", "CAP_DAC_READ_SEARCH")
    names = parse_cap_bounding("Name:\tx\nCapBnd:\t000001fffeffffff\n")
    assert "CAP_SYS_RESOURCE" not in names and len(names) == len(CAPABILITIES) - 1
    assert parse_cap_bounding("") == CAPABILITIES
