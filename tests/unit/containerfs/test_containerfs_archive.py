"""Pure rules of docker cp / export / diff: modes, the stat header, names, plans, checks."""

from __future__ import annotations

import base64
import io
import json
import stat
import tarfile

import pytest

from dockwright.api.routes.container_fs import stat_header
from dockwright.engine.containers import archive as ar
from dockwright.errors import InvalidParameter
from dockwright.image import tarplan as tp

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("st_mode", "go_mode"),
    [
        (stat.S_IFREG | 0o644, 0o644),
        (stat.S_IFDIR | 0o755, (1 << 31) | 0o755),
        (stat.S_IFLNK | 0o777, (1 << 27) | 0o777),
        (stat.S_IFCHR | 0o666, (1 << 26) | (1 << 21) | 0o666),
        (stat.S_IFBLK | 0o660, (1 << 26) | 0o660),
        (stat.S_IFIFO | 0o600, (1 << 25) | 0o600),
        (stat.S_IFSOCK | 0o755, (1 << 24) | 0o755),
        (stat.S_IFREG | stat.S_ISUID | 0o755, (1 << 23) | 0o755),
        (stat.S_IFDIR | stat.S_ISVTX | 0o777, (1 << 31) | (1 << 20) | 0o777),
    ],
)
def test_go_file_mode(st_mode, go_mode):
    assert ar.go_file_mode(st_mode) == go_mode


def test_stat_header_is_base64_json_with_docker_keys():
    st = ar.path_stat("etc", stat.S_IFDIR | 0o755, 4096, 1700000000.5, "")
    doc = json.loads(base64.b64decode(stat_header(st)))
    assert doc == {
        "name": "etc",
        "size": 4096,
        "mode": 2147484141,
        "mtime": "2023-11-14T22:13:20.5Z",
        "linkTarget": "",
    }


@pytest.mark.parametrize(
    ("path", "parts", "follow", "name"),
    [
        ("/etc/passwd", ("etc", "passwd"), False, "passwd"),
        ("etc/passwd", ("etc", "passwd"), False, "passwd"),
        ("/etc/", ("etc",), True, "etc"),
        ("/etc/.", ("etc",), True, "."),
        ("/a/../etc", ("etc",), False, "etc"),
        ("/", (), True, "/"),
    ],
)
def test_source_path(path, parts, follow, name):
    src = ar.source_path(path)
    assert (src.parts, src.follow, src.name) == (parts, follow, name)


def test_source_path_must_not_be_empty():
    with pytest.raises(InvalidParameter):
        ar.source_path("")


def test_child_prefix():
    assert ar.child_prefix("etc") == "etc/"
    assert ar.child_prefix("/") == "/"


def roundtrip(*infos: tarfile.TarInfo) -> list[tarfile.TarInfo]:
    data = b"".join(ar.header_bytes(i) + b"\0" * i.size + ar.padding(i.size) for i in infos)
    with tarfile.open(fileobj=io.BytesIO(data + ar.END_OF_ARCHIVE)) as tf:
        return tf.getmembers()


def test_tar_headers_round_trip():
    ids = (1000, 1000)
    members = roundtrip(
        ar.tar_header("d", stat.S_IFDIR | 0o750, 4096, 5.9, ids),
        ar.tar_header("d/f", stat.S_IFREG | 0o600, 3, 5.9, ids),
        ar.tar_header("d/l", stat.S_IFLNK | 0o777, 0, 5.0, ids, "f"),
        ar.tar_header("d/h", 0, 0, 5.0, ids, "d/f"),
        ar.tar_header("d/null", stat.S_IFCHR | 0o666, 0, 5.0, (0, 0), rdev=0x103),
    )
    d, f, link, hard, dev = members
    assert d.name == "d" and d.isdir() and d.mode == 0o750 and d.mtime == 5
    assert f.isreg() and f.size == 3 and (f.uid, f.gid) == ids and f.uname == ""
    assert link.issym() and link.linkname == "f"
    assert hard.islnk() and hard.linkname == "d/f"
    assert dev.ischr() and (dev.devmajor, dev.devminor) == (1, 3)


def test_directory_headers_end_with_a_slash():
    raw = ar.header_bytes(ar.tar_header("etc", stat.S_IFDIR | 0o755, 0, 0, (0, 0)))
    assert raw[:4] == b"etc/"


def test_padding_fills_blocks():
    assert ar.padding(0) == b""
    assert len(ar.padding(1)) == 511
    assert ar.padding(512) == b""


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.uid, info.gid = kind, link, 0o644, 5, 6
    return info


DEST = ("tmp", "out")


def test_entries_are_placed_under_the_destination():
    op = ar.plan_copy_member(member("a/b.txt"), DEST, None)
    assert isinstance(op, tp.File) and op.parts == ("tmp", "out", "a", "b.txt")
    assert (op.meta.uid, op.meta.gid) == (5, 6)


def test_absolute_names_are_re_rooted_and_climbing_names_refused():
    op = ar.plan_copy_member(member("/etc/passwd"), DEST, None)
    assert isinstance(op, tp.File) and op.parts == ("tmp", "out", "etc", "passwd")
    with pytest.raises(InvalidParameter):
        ar.plan_copy_member(member("../../etc/passwd"), DEST, None)
    with pytest.raises(InvalidParameter):
        ar.plan_copy_member(member("a/../../x"), DEST, None)


def test_hardlink_targets_stay_under_the_destination():
    op = ar.plan_copy_member(member("h", tarfile.LNKTYPE, "/etc/shadow"), DEST, None)
    assert isinstance(op, tp.Hardlink) and op.target == ("tmp", "out", "etc", "shadow")
    with pytest.raises(InvalidParameter):
        ar.plan_copy_member(member("h", tarfile.LNKTYPE, "../../../etc/shadow"), DEST, None)


def test_whiteout_names_are_ordinary_files_in_docker_cp():
    op = ar.plan_copy_member(member(".wh.secret"), DEST, None)
    assert isinstance(op, tp.File) and op.parts[-1] == ".wh.secret"


def test_owner_overrides_the_tar_ids():
    op = ar.plan_copy_member(member("f"), DEST, (1000, 100))
    assert isinstance(op, tp.File) and (op.meta.uid, op.meta.gid) == (1000, 100)


def test_dot_entry_is_the_destination_directory_itself():
    op = ar.plan_copy_member(member("./", tarfile.DIRTYPE), DEST, None)
    assert isinstance(op, tp.Dir) and op.parts == DEST
    assert isinstance(ar.plan_copy_member(member("."), DEST, None), tp.Skip)


def test_overwrite_rules():
    file_op = ar.plan_copy_member(member("x"), DEST, None)
    dir_op = ar.plan_copy_member(member("x", tarfile.DIRTYPE), DEST, None)
    assert ar.overwrite_error(None, file_op) is None
    assert ar.overwrite_error(stat.S_IFREG | 0o644, file_op) is None
    assert ar.overwrite_error(stat.S_IFDIR | 0o755, dir_op) is None
    assert "cannot overwrite directory" in (ar.overwrite_error(stat.S_IFDIR, file_op) or "")
    assert "cannot overwrite non-directory" in (ar.overwrite_error(stat.S_IFREG, dir_op) or "")


def test_write_checks_follow_mounts_and_read_only_rootfs():
    mounts = [ar.MountPoint("/data", False), ar.MountPoint("/data/ro", True)]
    assert ar.write_error("/tmp", False, mounts) is None
    assert ar.write_error("/tmp", True, mounts) == "container rootfs is marked read-only"
    assert ar.write_error("/data/x", True, mounts) is None
    assert ar.write_error("/data/ro/x", False, mounts) == "mounted volume is marked read-only"
    assert ar.write_error("/database", True, mounts) == "container rootfs is marked read-only"


def test_visible_changes_hide_runtime_mount_points():
    found = [
        (0, "/etc"),
        (1, "/etc/hostname"),
        (1, "/etc/hosts"),
        (1, "/etc/resolv.conf"),
        (0, "/tmp"),
        (1, "/tmp/x"),
    ]
    assert ar.visible_changes(found) == [(0, "/tmp"), (1, "/tmp/x")]


def test_visible_changes_keep_real_changes_next_to_mount_points():
    found = [(0, "/etc"), (1, "/etc/hosts"), (0, "/etc/passwd"), (1, "/proc"), (2, "/sys")]
    assert ar.visible_changes(found) == [(0, "/etc"), (0, "/etc/passwd"), (2, "/sys")]
