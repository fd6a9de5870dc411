"""resolve_user: Docker's (runc's) user/group rules against an image's passwd and group files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwright.errors import InvalidParameter
from dockwright.runtime.types import ResolvedUser
from dockwright.runtime.users import resolve_user

pytestmark = pytest.mark.unit

PASSWD = """root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
web:x:1000:1000:Web:/home/web:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
GROUP = """root:x:0:
wheel:x:10:root,web
audio:x:29:web
web:x:1000:
staff:x:50:
"""


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text(PASSWD)
    (tmp_path / "etc/group").write_text(GROUP)
    return tmp_path


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("", ResolvedUser(0, 0, (10,), "/root")),
        ("root", ResolvedUser(0, 0, (10,), "/root")),
        ("web", ResolvedUser(1000, 1000, (10, 29), "/home/web")),
        ("1000", ResolvedUser(1000, 1000, (10, 29), "/home/web")),
        ("4242", ResolvedUser(4242, 0, (), "/")),
        ("web:staff", ResolvedUser(1000, 50, (), "/home/web")),
        ("web:777", ResolvedUser(1000, 777, (), "/home/web")),
        ("4242:4343", ResolvedUser(4242, 4343, (), "/")),
        ("nobody", ResolvedUser(65534, 65534, (), "/nonexistent")),
    ],
)
def test_resolves_like_docker(rootfs: Path, user: str, expected: ResolvedUser) -> None:
    assert resolve_user(rootfs, user) == expected


def test_unknown_user_has_dockers_text(rootfs: Path) -> None:
    with pytest.raises(
        InvalidParameter, match="^unable to find user ghost: no matching entries in passwd file$"
    ):
        resolve_user(rootfs, "ghost")


def test_unknown_group_has_dockers_text(rootfs: Path) -> None:
    with pytest.raises(
        InvalidParameter, match="unable to find group ghosts: no matching entries in group file"
    ):
        resolve_user(rootfs, "web:ghosts")


def test_out_of_range_id(rootfs: Path) -> None:
    with pytest.raises(InvalidParameter, match="must be in range"):
        resolve_user(rootfs, "99999999999")


def test_image_without_passwd(tmp_path: Path) -> None:
    assert resolve_user(tmp_path, "") == ResolvedUser(0, 0, (), "/")
    assert resolve_user(tmp_path, "123:45") == ResolvedUser(123, 45, (), "/")
    with pytest.raises(InvalidParameter, match="unable to find user web"):
        resolve_user(tmp_path, "web")


def test_symlinks_never_leave_the_rootfs(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "passwd").write_text("evil:x:0:0::/evil:/bin/sh\n")
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "inside").mkdir()
    (rootfs / "inside/passwd").write_text("web:x:7:7::/w:/bin/sh\n")
    (rootfs / "etc/passwd").symlink_to(host / "passwd")  # absolute: means <rootfs>/<host>/passwd
    with pytest.raises(InvalidParameter, match="unable to find user evil"):
        resolve_user(rootfs, "evil")
    (rootfs / "etc/passwd").unlink()
    (rootfs / "etc/passwd").symlink_to("../../../../../../inside/passwd")  # ".." stops at the root
    assert resolve_user(rootfs, "web") == ResolvedUser(7, 7, (), "/w")
