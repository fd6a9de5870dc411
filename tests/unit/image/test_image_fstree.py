"""`docker diff` over an upper dir, layer sizes, and the reverse tar of a directory."""

from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

from dockwright.image.extract import extract
from dockwright.image.fstree import ChangeKind, changes, tree_size
from dockwright.image.tardiff import tar_diff

pytestmark = pytest.mark.unit
M, A, D = ChangeKind.MODIFIED, ChangeKind.ADDED, ChangeKind.DELETED


def write(path, data=b""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def whiteout(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mknod(path, stat.S_IFCHR | 0o600, 0)


@pytest.fixture
def lower(tmp_path):
    low = tmp_path / "lower"
    for name in ("etc/hostname", "etc/passwd", "bin/sh", "var/log/old"):
        write(low / name, b"lower")
    return low


def test_changes_classifies_like_docker_diff(tmp_path, lower):
    up = tmp_path / "upper"
    write(up / "etc" / "hostname", b"changed")
    whiteout(up / "etc" / "passwd")
    write(up / "new", b"n")
    write(up / "tmp" / "a" / "b", b"b")
    write(up / "var" / "log" / "x", b"x")
    for d in ("var", "var/log"):  # copied up only to reach a child: same metadata as below
        st = os.stat(lower / d)
        os.chmod(up / d, stat.S_IMODE(st.st_mode))
        os.utime(up / d, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.utime(up / "etc", ns=(0, 10**9))
    assert changes(up, [lower]) == [
        (M, "/etc"), (M, "/etc/hostname"), (D, "/etc/passwd"), (A, "/new"), (A, "/tmp"),
        (A, "/tmp/a"), (A, "/tmp/a/b"), (M, "/var/log"), (A, "/var/log/x"),
    ]  # fmt: skip


def test_changes_look_through_every_lower_layer(tmp_path, lower):
    top = tmp_path / "top"
    write(top / "opt" / "tool", b"t")
    up = tmp_path / "upper"
    write(up / "opt" / "tool", b"changed")
    write(up / "bin" / "sh", b"changed")
    os.utime(up / "opt", ns=(0, 10**9))
    os.utime(up / "bin", ns=(0, 10**9))
    assert changes(up, [top, lower]) == [(M, "/bin"), (M, "/bin/sh"), (M, "/opt"), (M, "/opt/tool")]


def test_empty_upper_has_no_changes(tmp_path, lower):
    (tmp_path / "upper").mkdir()
    assert changes(tmp_path / "upper", [lower]) == []


def test_tree_size_counts_hardlinks_once(tmp_path):
    write(tmp_path / "t" / "a", b"x" * 100)
    os.link(tmp_path / "t" / "a", tmp_path / "t" / "b")
    os.symlink("a", tmp_path / "t" / "c")
    write(tmp_path / "t" / "d" / "e", b"y" * 10)
    assert tree_size(tmp_path / "t") == 100 + 10 + 1


def make_tree(root):
    write(root / "bin" / "busybox", b"\x7fELF" * 10)
    os.chmod(root / "bin" / "busybox", 0o4755)
    os.link(root / "bin" / "busybox", root / "bin" / "sh")
    os.symlink("busybox", root / "bin" / "ls")
    whiteout(root / "etc" / "gone")
    os.mkfifo(root / "fifo", 0o640)
    os.setxattr(root / "bin" / "busybox", "user.note", b"\x00\xffbin")
    for p in (root / "bin", root / "etc"):
        os.utime(p, (1_600_000_000, 1_600_000_000))


def test_tar_diff_converts_whiteouts_and_links(tmp_path):
    make_tree(tmp_path / "src")
    data = b"".join(tar_diff(tmp_path / "src"))
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        members = {m.name: m for m in tf.getmembers()}
    assert list(members) == [
        "bin",
        "bin/busybox",
        "bin/ls",
        "bin/sh",
        "etc",
        "etc/.wh.gone",
        "fifo",
    ]
    assert members["bin/sh"].islnk() and members["bin/sh"].linkname == "bin/busybox"
    assert members["etc/.wh.gone"].isreg() and members["etc/.wh.gone"].size == 0
    assert members["bin/busybox"].mode == 0o4755
    assert (
        members["bin/busybox"]
        .pax_headers["SCHILY.xattr.user.note"]
        .encode("utf-8", "surrogateescape")
        == b"\x00\xffbin"
    )
    assert members["fifo"].isfifo()
    assert b"".join(tar_diff(tmp_path / "src")) == data  # deterministic


def test_tar_diff_round_trips_through_extract(tmp_path):
    make_tree(tmp_path / "src")
    (tmp_path / "dst").mkdir()
    extract(tar_diff(tmp_path / "src"), tmp_path / "dst", chown=False)
    dst = tmp_path / "dst"
    assert (dst / "bin" / "busybox").read_bytes() == b"\x7fELF" * 10
    assert os.stat(dst / "bin" / "sh").st_ino == os.stat(dst / "bin" / "busybox").st_ino
    assert stat.S_IMODE(os.stat(dst / "bin" / "busybox").st_mode) == 0o4755
    assert os.readlink(dst / "bin" / "ls") == "busybox"
    gone = os.lstat(dst / "etc" / "gone")
    assert stat.S_ISCHR(gone.st_mode) and gone.st_rdev == 0
    assert os.getxattr(dst / "bin" / "busybox", "user.note") == b"\x00\xffbin"
    assert os.stat(dst / "etc").st_mtime == 1_600_000_000
    assert stat.S_ISFIFO(os.lstat(dst / "fifo").st_mode)
