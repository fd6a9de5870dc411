"""Resolve Docker's `User` ("", "name", "uid", "name:group", "uid:gid") against an image.

The rules are runc's GetExecUser, which Docker uses: a numeric user needs no passwd entry, a
named one does; supplementary groups come from /etc/group only when no group was given.
/etc/passwd and /etc/group are looked up inside the rootfs; symlinks never lead out of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockwright.errors import InvalidParameter
from dockwright.kernel.paths import resolve_in_root
from dockwright.runtime.types import ResolvedUser

MAX_ID = 2**31 - 1
_RANGE_ERROR = "uids and gids must be in range 0-2147483647"


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


def _int_or(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def parse_passwd(text: str) -> list[PasswdEntry]:
    """name:password:uid:gid:gecos:home:shell lines; comments and blanks skipped."""
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = line.split(":") + [""] * 7
        entries.append(PasswdEntry(f[0], _int_or(f[2]), _int_or(f[3]), f[5]))
    return entries


def parse_group(text: str) -> list[GroupEntry]:
    """name:password:gid:member,member lines."""
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = line.split(":") + [""] * 4
        members = tuple(m for m in f[3].split(",") if m)
        entries.append(GroupEntry(f[0], _int_or(f[2]), members))
    return entries


def _read_in_root(rootfs: Path, path: str) -> str | None:
    """A file of the image, or None when it is missing or not a regular file."""
    host = resolve_in_root(rootfs, path)
    try:
        if not host.is_file():
            return None
        return host.read_text(errors="replace")
    except OSError:
        return None


def _parse_id(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _checked(value: int) -> int:
    if not 0 <= value <= MAX_ID:
        raise InvalidParameter(_RANGE_ERROR)
    return value


def _find_user(users: list[PasswdEntry] | None, user_arg: str) -> PasswdEntry | None:
    """The first entry for `user_arg`: root when empty, by uid when numeric, else by name."""
    uid = _parse_id(user_arg)
    for u in users or []:
        if user_arg == "":
            match = u.uid == 0
        elif uid is not None:
            match = u.uid == uid
        else:
            match = u.name == user_arg
        if match:
            return u
    return None


def _find_group(groups: list[GroupEntry] | None, group_arg: str) -> GroupEntry | None:
    gid = _parse_id(group_arg)
    for g in groups or []:
        if (gid is not None and g.gid == gid) or (gid is None and g.name == group_arg):
            return g
    return None


def resolve_user(rootfs: Path, user: str) -> ResolvedUser:
    """The uid, gid, supplementary gids and home of `user` in the image at `rootfs`.

    Raises InvalidParameter with Docker's text, e.g.
    "unable to find user web: no matching entries in passwd file".
    """
    user_arg, _, group_arg = user.partition(":")
    passwd_text = _read_in_root(rootfs, "/etc/passwd")
    group_text = _read_in_root(rootfs, "/etc/group")
    users = parse_passwd(passwd_text) if passwd_text is not None else None
    groups = parse_group(group_text) if group_text is not None else None
    entry = _find_user(users, user_arg)
    uid, gid, home = 0, 0, "/"
    if entry is not None:
        uid, gid, home = entry.uid, entry.gid, entry.home or "/"
    elif user_arg:
        parsed = _parse_id(user_arg)
        if parsed is None:
            raise InvalidParameter(
                f"unable to find user {user_arg}: no matching entries in passwd file"
            )
        uid = _checked(parsed)
    if group_arg:
        return ResolvedUser(uid, _explicit_gid(groups, group_arg), (), home)
    name = entry.name if entry is not None else None
    sgids = tuple(g.gid for g in groups or [] if name is not None and name in g.members)
    return ResolvedUser(uid, gid, sgids, home)


def _explicit_gid(groups: list[GroupEntry] | None, group_arg: str) -> int:
    found = _find_group(groups, group_arg)
    if found is not None:
        return found.gid
    parsed = _parse_id(group_arg)
    if parsed is None:
        raise InvalidParameter(
            f"unable to find group {group_arg}: no matching entries in group file"
        )
    return _checked(parsed)
