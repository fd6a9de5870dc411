"""resolve_in_root: symlinks are followed as inside a chroot, never out of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwright.errors import InvalidParameter
from dockwright.kernel.paths import resolve_in_root

pytestmark = pytest.mark.unit


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "etc").mkdir(parents=True)
    (r / "usr/lib").mkdir(parents=True)
    (r / "lib").symlink_to("usr/lib")
    (r / "abs").symlink_to("/etc")
    (r / "up").symlink_to("../../../..")
    (r / "loop").symlink_to("loop")
    (r / "etc/link").symlink_to("../lib/x")
    return r


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/etc/passwd", "etc/passwd"),
        ("etc/../etc/./passwd", "etc/passwd"),
        ("/lib/libc.so", "usr/lib/libc.so"),
        ("/abs/hosts", "etc/hosts"),
        ("/up/etc", "etc"),
        ("/../../../etc", "etc"),
        ("/etc/link", "usr/lib/x"),
        ("/", ""),
    ],
)
def test_resolution_stays_inside(root: Path, path: str, expected: str) -> None:
    assert resolve_in_root(root, path) == root / expected


def test_symlink_loops_are_an_error(root: Path) -> None:
    with pytest.raises(InvalidParameter, match="too many levels of symbolic links"):
        resolve_in_root(root, "/loop/x")
