"""Pure rules of `docker cp`, `docker export` and `docker diff`: names, modes, plans, checks.

Nothing here touches a file: `fsops` walks and writes, these functions decide.

- Docker reports a path's mode as a Go `os.FileMode` (type bits high, permission bits low).
- A requested path names its final component without following it ("/a/link"), unless it
  ends in "/" or "/." ("/a/link/" is the directory the link points to); tar entries are
  named after the requested base name ("." for "/.", and "/..." for the root itself).
- Tar entries extracted into a container are re-rooted under the destination directory;
  a name that climbs out of it is refused (`tarplan.clean_path`).
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from dockwright.errors import InvalidParameter
from dockwright.image import tarplan as tp

# Go os.FileMode type bits.
GO_DIR = 1 << 31
GO_SYMLINK = 1 << 27
GO_DEVICE = 1 << 26
GO_NAMED_PIPE = 1 << 25
GO_SOCKET = 1 << 24
GO_SETUID = 1 << 23
GO_SETGID = 1 << 22
GO_CHAR_DEVICE = 1 << 21
GO_STICKY = 1 << 20

_TYPE_BITS = {
    stat.S_IFDIR: GO_DIR,
    stat.S_IFLNK: GO_SYMLINK,
    stat.S_IFBLK: GO_DEVICE,
    stat.S_IFCHR: GO_DEVICE | GO_CHAR_DEVICE,
    stat.S_IFIFO: GO_NAMED_PIPE,
    stat.S_IFSOCK: GO_SOCKET,
}

# What Docker's init layer holds (mount points the runtime needs); never part of `docker diff`.
INIT_LAYER_PATHS = frozenset(
    {
        "/.dockerenv",
        "/dev",
        "/dev/console",
        "/dev/pts",
        "/dev/shm",
        "/etc/hostname",
        "/etc/hosts",
        "/etc/mtab",
        "/etc/resolv.conf",
        "/proc",
        "/sys",
    }
)


def go_file_mode(st_mode: int) -> int:
    """The Go `os.FileMode` of a POSIX st_mode (what Docker's path stat reports)."""
    mode = (st_mode & 0o777) | _TYPE_BITS.get(stat.S_IFMT(st_mode), 0)
    if st_mode & stat.S_ISUID:
        mode |= GO_SETUID
    if st_mode & stat.S_ISGID:
        mode |= GO_SETGID
    if st_mode & stat.S_ISVTX:
        mode |= GO_STICKY
    return mode


@dataclass(frozen=True)
class PathStat:
    """Docker's ContainerPathStat (sent base64-encoded in X-Docker-Container-Path-Stat)."""

    name: str
    size: int
    mode: int  # Go FileMode bits
    mtime: float
    link_target: str = ""


def path_stat(name: str, st_mode: int, size: int, mtime: float, link_target: str) -> PathStat:
    return PathStat(name, size, go_file_mode(st_mode), mtime, link_target)


@dataclass(frozen=True)
class SourcePath:
    """A requested container path split for lookup.

    `parts` are the components to walk; with `follow` every one of them (the last too) is
    resolved, else the last is looked at itself (a symlink stays a symlink). `name` is the
    base name reported in the stat and used for the archive's entries.
    """

    parts: tuple[str, ...]
    follow: bool
    name: str


def source_path(path: str) -> SourcePath:
    """How Docker reads `path` for GET/HEAD archive (relative paths start at the root)."""
    if not path:
        raise InvalidParameter("bad parameter: path cannot be empty")
    parts = tuple(p for p in posixpath.normpath("/" + path).split("/") if p)
    if not parts:
        return SourcePath((), True, "/")
    if path.endswith("/."):
        return SourcePath(parts, True, ".")
    return SourcePath(parts, path.endswith("/"), parts[-1])


def child_prefix(entry_name: str) -> str:
    """The tar name prefix of a directory entry's children ("etc" → "etc/", root "/" → "/")."""
    return entry_name if entry_name.endswith("/") else entry_name + "/"


def tar_header(
    name: str,
    st_mode: int,
    size: int,
    mtime: float,
    ids: tuple[int, int],
    link: str = "",
    rdev: int = 0,
) -> tarfile.TarInfo:
    """A tar header like Docker's: no user names, mtime in whole seconds.

    `link` is a symlink's target, or for a hardlink (`st_mode` 0) the name it links to.
    """
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st_mode)
    info.uid, info.gid = ids
    info.uname = info.gname = ""
    info.mtime = int(mtime)
    kind = stat.S_IFMT(st_mode)
    if st_mode == 0:
        info.type, info.linkname = tarfile.LNKTYPE, link
    elif kind == stat.S_IFDIR:
        info.type = tarfile.DIRTYPE
    elif kind == stat.S_IFLNK:
        info.type, info.linkname = tarfile.SYMTYPE, link
    elif kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO):
        info.type = {stat.S_IFCHR: tarfile.CHRTYPE, stat.S_IFBLK: tarfile.BLKTYPE}.get(
            kind, tarfile.FIFOTYPE
        )
        info.devmajor, info.devminor = os.major(rdev), os.minor(rdev)
    else:
        info.type, info.size = tarfile.REGTYPE, size
    return info


def header_bytes(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def padding(size: int) -> bytes:
    """Zero bytes that fill a member's data up to the next 512-byte block."""
    return b"\0" * (-size % tarfile.BLOCKSIZE)


END_OF_ARCHIVE = b"\0" * (2 * tarfile.BLOCKSIZE)


# -- extraction (PUT archive)


def plan_copy_member(
    info: tarfile.TarInfo, dest: tuple[str, ...], owner: tuple[int, int] | None
) -> tp.Op:
    """The operation one uploaded entry means under directory `dest` (no whiteout meaning).

    `owner` replaces the entries' uid/gid (copyUIDGID with a container user).
    """
    parts = dest + tp.clean_path(info.name)
    meta = tp.meta_of(info)
    if owner is not None:
        meta = replace(meta, uid=owner[0], gid=owner[1])
    if info.isdir():
        return tp.Dir(parts, meta)
    if parts == dest:
        return tp.Skip(info.name, "only a directory can name the destination itself")
    if info.isreg():
        return tp.File(parts, meta, info.size)
    if info.issym():
        return tp.Symlink(parts, meta, info.linkname)
    if info.islnk():
        return tp.Hardlink(parts, dest + tp.clean_path(info.linkname))
    if info.ischr() or info.isblk():
        kind = stat.S_IFCHR if info.ischr() else stat.S_IFBLK
        return tp.Device(parts, meta, kind, info.devmajor, info.devminor)
    if info.isfifo():
        return tp.Device(parts, meta, stat.S_IFIFO)
    return tp.Skip(info.name, f"unsupported tar entry type {info.type!r}")


def overwrite_error(existing_mode: int | None, op: tp.Op) -> str | None:
    """noOverwriteDirNonDir: the message when `op` would swap a directory and a non-directory."""
    if existing_mode is None or isinstance(op, tp.Skip) or not getattr(op, "parts", ()):
        return None
    path = "/" + "/".join(op.parts)
    is_dir = stat.S_ISDIR(existing_mode)
    if is_dir and not isinstance(op, tp.Dir):
        return f"cannot overwrite directory {path!r} with non-directory"
    if not is_dir and isinstance(op, tp.Dir):
        return f"cannot overwrite non-directory {path!r} with directory"
    return None


@dataclass(frozen=True)
class MountPoint:
    target: str
    read_only: bool


def under(path: str, directory: str) -> bool:
    directory = directory.rstrip("/") or "/"
    return directory == "/" or path == directory or path.startswith(directory + "/")


def write_error(dest: str, readonly_rootfs: bool, mounts: Sequence[MountPoint]) -> str | None:
    """Why extracting into container directory `dest` is forbidden, or None (Docker's checks)."""
    inside = [m for m in mounts if under(dest, m.target)]
    if inside:
        deepest = max(inside, key=lambda m: len(m.target.rstrip("/")))
        return "mounted volume is marked read-only" if deepest.read_only else None
    return "container rootfs is marked read-only" if readonly_rootfs else None


# -- docker diff


def visible_changes(changes: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    """Drop what Docker keeps in its init layer (mount points the runtime made), and the
    directories reported changed only because such a mount point was made in them."""
    items = list(changes)
    hidden = {p for k, p in items if k == 1 and p in INIT_LAYER_PATHS}
    hidden |= {p for _, p in items if any(p.startswith(h + "/") for h in hidden)}
    kept = [(k, p) for k, p in items if p not in hidden]
    ancestors = {a for h in hidden for a in _ancestors(h)}
    return [
        (k, p)
        for k, p in kept
        if not (k == 0 and p in ancestors and not any(q.startswith(p + "/") for _, q in kept))
    ]


def _ancestors(path: str) -> list[str]:
    out = []
    while (path := posixpath.dirname(path)) != "/":
        out.append(path)
    return out
