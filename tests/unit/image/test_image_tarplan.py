"""Whiteout conversion and path cleaning, on tar headers alone (pure)."""

from __future__ import annotations

import stat

import pytest
from layer_tars import directory, entry, file, hardlink, symlink

from dockwright.errors import InvalidParameter
from dockwright.image import tarplan as tp

pytestmark = pytest.mark.unit


def plan(e):
    return tp.plan_member(e[0])


def test_whiteout_becomes_a_device_at_the_hidden_name():
    assert plan(file("etc/.wh.passwd", uid=3, gid=4)) == tp.Whiteout(("etc", "passwd"), 3, 4)
    assert plan(file(".wh.top")) == tp.Whiteout(("top",))


def test_opaque_marker_marks_its_directory():
    assert plan(file("var/cache/.wh..wh..opq")) == tp.Opaque(("var", "cache"))


@pytest.mark.parametrize("name", [".wh..wh.plnk", "a/.wh..wh.aufs", ".wh..wh.plnk/123.456", ".wh."])
def test_aufs_metadata_is_skipped(name):
    assert isinstance(plan(file(name)), tp.Skip)


def test_ordinary_entries_keep_their_metadata():
    op = plan(file("bin/sh", b"#!", mode=0o4755, uid=1, gid=2, xattrs={"user.a": b"\x00\xff"}))
    assert op == tp.File(
        ("bin", "sh"), tp.Meta(0o4755, 1, 2, 1_700_000_000, (("user.a", b"\x00\xff"),)), 2
    )
    assert plan(directory("./usr/")) == tp.Dir(("usr",), tp.Meta(0o755, 0, 0, 1_700_000_000))
    assert plan(symlink("lib", "usr/lib")).target == "usr/lib"
    assert plan(hardlink("bin/ls", "/bin/busybox")) == tp.Hardlink(
        ("bin", "ls"), ("bin", "busybox")
    )
    dev = plan(entry("dev/null", b"3", major=1, minor=3))
    assert dev == tp.Device(
        ("dev", "null"), tp.Meta(0o644, 0, 0, 1_700_000_000), stat.S_IFCHR, 1, 3
    )
    assert plan(entry("run/fifo", b"6")).kind == stat.S_IFIFO


def test_overlay_xattrs_in_a_tar_are_dropped():
    op = plan(directory("d", xattrs={"trusted.overlay.redirect": b"/x", "security.selinux": b"l"}))
    assert op.meta.xattrs == (("security.selinux", b"l"),)


def test_root_entry_is_the_layer_root():
    assert plan(directory("./")).parts == ()
    assert isinstance(plan(file("/")), tp.Skip)


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("/etc/passwd", ("etc", "passwd")),
        ("./a/./b", ("a", "b")),
        ("a/../b", ("b",)),
        ("a//b/", ("a", "b")),
    ],
)
def test_paths_are_made_relative(name, parts):
    assert tp.clean_path(name) == parts


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/../etc/passwd", ".."])
def test_climbing_out_is_rejected(name):
    with pytest.raises(InvalidParameter, match="escapes the layer"):
        tp.clean_path(name)
    with pytest.raises(InvalidParameter):
        plan(hardlink("ok", name))
