"""Mount table parsing, overlay option building and the recording fake (no root needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwright.errors import InvalidParameter
from dockwright.kernel.fakes import MountCall, RecordingMounter
from dockwright.kernel.libc import SyscallError
from dockwright.kernel.mount import mount_overlay, overlay_data, parse_mountinfo

pytestmark = pytest.mark.unit

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
90 22 0:50 /sub /mnt/with\\040space rw - overlay overlay rw,lowerdir=/a:/b,upperdir=/u,workdir=/w
"""


def test_parse_mountinfo() -> None:
    infos = parse_mountinfo(MOUNTINFO)
    assert [m.mount_point for m in infos] == [
        "/",
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/unified",
        "/mnt/with space",
    ]
    last = infos[-1]
    assert (last.mount_id, last.parent_id, last.root, last.fstype, last.source) == (
        90,
        22,
        "/sub",
        "overlay",
        "overlay",
    )
    assert last.super_options.startswith("rw,lowerdir=/a:/b")
    assert infos[0].source == "/dev/sda1"


def test_overlay_data() -> None:
    assert (
        overlay_data(["/l1", "/l2"], Path("/u"), Path("/w"))
        == "lowerdir=/l1:/l2,upperdir=/u,workdir=/w"
    )
    assert overlay_data(["/l1", "/l2"], None, None) == "lowerdir=/l1:/l2"


@pytest.mark.parametrize(
    ("lower", "upper", "work", "message"),
    [
        ([], Path("/u"), Path("/w"), "at least one lowerdir"),
        ([Path("/l")], Path("/u"), None, "both upperdir and workdir"),
        ([Path("/l")], None, None, "at least two lowerdirs"),
        ([Path("/a:b")], Path("/u"), Path("/w"), "must not contain"),
    ],
)
def test_overlay_arguments_are_checked_before_any_syscall(
    lower: list[Path], upper: Path | None, work: Path | None, message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        mount_overlay(lower, upper, work, Path("/nonexistent-target"))


def test_recording_mounter_tracks_table_and_failures() -> None:
    m = RecordingMounter()
    m.mount_overlay([Path("/l1"), Path("/l2")], Path("/u"), Path("/w"), Path("/t"))
    m.mount("cgroup", Path("/sys/fs/cgroup/hugetlb"), "cgroup", 0, "hugetlb")
    assert m.is_mountpoint(Path("/t")) and m.is_mountpoint(Path("/sys/fs/cgroup/hugetlb"))
    m.unmount(Path("/t"))
    assert not m.is_mountpoint(Path("/t"))
    assert [c.kind for c in m.calls] == ["overlay", "mount", "unmount"]
    assert m.calls[0] == MountCall(
        "overlay",
        Path("/t"),
        "overlay",
        "overlay",
        0,
        "",
        (Path("/l1"), Path("/l2")),
        Path("/u"),
        Path("/w"),
    )
    m.fail_on = Path("/busy")
    with pytest.raises(SyscallError) as info:
        m.mount("tmpfs", Path("/busy"), "tmpfs")
    assert info.value.errno == 16 and not m.is_mountpoint(Path("/busy"))
