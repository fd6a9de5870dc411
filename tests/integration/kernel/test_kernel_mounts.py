"""Real overlay mounts through libc: any number of layers, both kernel interfaces."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockwright.kernel import mount as kmount
from dockwright.kernel.libc import SyscallError
from dockwright.kernel.mount import (
    LinuxMounter,
    is_mountpoint,
    mount_overlay,
    read_mountinfo,
    unmount,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def work() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("mount tests need root")
    root = Path(tempfile.mkdtemp(prefix="dw-mnt-"))
    yield root
    for m in sorted((m.mount_point for m in read_mountinfo()), reverse=True):
        if m.startswith(str(root)):
            unmount(Path(m))
    shutil.rmtree(root)


def layers(root: Path, count: int) -> list[Path]:
    """count layers, top first; layer i holds file i and its own version of "shared"."""
    result = []
    for i in range(count):
        d = root / "layers" / f"{i:04d}"
        d.mkdir(parents=True)
        (d / f"file{i}").write_text(str(i))
        (d / "shared").write_text(f"from {i}")
        result.append(d)
    return result


def upper_work_target(root: Path) -> tuple[Path, Path, Path]:
    dirs = root / "upper", root / "work", root / "merged"
    for d in dirs:
        d.mkdir()
    return dirs


def test_overlay_mount_write_and_unmount(work: Path) -> None:
    lower = layers(work, 3)
    upper, workdir, target = upper_work_target(work)
    LinuxMounter().mount_overlay(lower, upper, workdir, target)
    assert is_mountpoint(target) and not is_mountpoint(work)
    assert (target / "shared").read_text() == "from 0"
    assert sorted(p.name for p in target.iterdir()) == ["file0", "file1", "file2", "shared"]
    (target / "new").write_text("x")
    assert (upper / "new").read_text() == "x" and not (lower[0] / "new").exists()
    unmount(target)
    assert not is_mountpoint(target)
    unmount(target)  # idempotent
    unmount(work / "never-existed")


@pytest.mark.parametrize("count", [300])
def test_many_layers_with_the_new_mount_api(work: Path, count: int) -> None:
    lower = layers(work, count)
    upper, workdir, target = upper_work_target(work)
    mount_overlay(lower, upper, workdir, target)
    assert (target / "shared").read_text() == "from 0"
    assert (target / f"file{count - 1}").read_text() == str(count - 1)
    unmount(target)


def test_legacy_mount_shortens_long_lowerdir_lists(work: Path) -> None:
    lower = layers(work, 150)  # ~ 150 * 40 bytes of paths: more than one page
    assert len(kmount.overlay_data([str(d) for d in lower], None, None)) > 4096
    upper, workdir, target = upper_work_target(work)
    kmount._overlay_legacy(lower, upper, workdir, target)
    assert (target / "shared").read_text() == "from 0" and (target / "file149").read_text() == "149"
    unmount(target)


def test_read_only_overlay_and_errors(work: Path) -> None:
    lower = layers(work, 2)
    target = work / "ro"
    target.mkdir()
    mount_overlay(lower, None, None, target)
    with pytest.raises(OSError):
        (target / "new").write_text("x")
    unmount(target)
    with pytest.raises(SyscallError, match="mount overlay on"):
        mount_overlay([work / "missing", lower[0]], None, None, target)
    assert not is_mountpoint(target)


def test_generic_mount_of_a_tmpfs(work: Path) -> None:
    target = work / "t"
    target.mkdir()
    kmount.mount("tmpfs", target, "tmpfs", kmount.MS_NOSUID, "size=1m,mode=700")
    info = next(m for m in read_mountinfo() if m.mount_point == str(target))
    assert (
        info.fstype == "tmpfs" and "nosuid" in info.options and "size=1024k" in info.super_options
    )
    unmount(target, detach=False)
