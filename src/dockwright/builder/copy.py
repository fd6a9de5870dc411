"""COPY and ADD into a mounted root filesystem (blocking; run in a worker thread).

Docker's rules: a directory source copies its contents; a file goes to `dest/<name>` when the
destination ends in `/` (or is an existing directory, or there are several sources), else to
`dest` itself; missing parent directories are created (0755); files keep their mode and mtime;
ownership is `--chown` (names looked up in the image's /etc/passwd and /etc/group) or 0:0. ADD
unpacks local tar archives (any compression) into the destination. Paths inside the root are
resolved with symlinks interpreted relative to the root, so nothing escapes it.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import shutil
import stat
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dockwright.builder.context import Source, walk_source
from dockwright.builder.copyindex import copy_from_index
from dockwright.builder.ignore import Pattern
from dockwright.builder.parser import Instruction
from dockwright.builder.steps import arguments
from dockwright.errors import InvalidParameter

MAX_LINKS = 40
COPY_CHUNK = 1 << 24
_XATTR_IGNORED = (errno.EPERM, errno.ENOTSUP, errno.ENODATA, errno.EINVAL, errno.EACCES)


@dataclass(frozen=True)
class CopySpec:
    """What one COPY/ADD writes: the matched sources, an absolute destination, owner, mode."""

    sources: tuple[Source, ...]
    dest: str
    chown: str = ""
    chmod: int | None = None  # --chmod: mode of every copied file and directory
    unpack: bool = False  # ADD: local tar archives are unpacked
    parents: bool = False  # --parents: source names are paths; the destination is a directory
    exclude: tuple[Pattern, ...] = ()  # --exclude: entries left out of directory sources


def parse_chmod(text: str) -> int | None:
    """`--chmod=755` (octal); InvalidParameter for anything else."""
    if not text:
        return None
    if not re.fullmatch(r"[0-7]{3,4}", text):
        raise InvalidParameter(f"invalid chmod parameter {text!r}: only octal modes are supported")
    return int(text, 8)


def resolve_in_root(root: Path, path: str) -> Path:
    """`path` inside `root`, following symlinks as the container would see them."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        here = root.joinpath(*done, part)
        if here.is_symlink():
            hops += 1
            if hops > MAX_LINKS:
                raise InvalidParameter(f"too many levels of symbolic links in {path}")
            target = os.readlink(here)
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        done.append(part)
    return root.joinpath(*done)


def owner(root: Path, chown: str) -> tuple[int, int]:
    """uid:gid of a `--chown` value; names from the root's /etc/passwd and /etc/group."""
    if not chown:
        return 0, 0
    user, _, group = chown.partition(":")
    uid = _lookup(root, "/etc/passwd", user)
    gid = _lookup(root, "/etc/group", group) if group else _primary_gid(root, user, uid)
    return uid, gid


def _lookup(root: Path, table: str, name: str) -> int:
    if name.isdigit():
        return int(name)
    for fields in _rows(root, table):
        if fields[0] == name and len(fields) > 2:
            return int(fields[2])
    raise InvalidParameter(f"unable to find user {name}: no matching entries in {table[5:]} file")


def _primary_gid(root: Path, user: str, uid: int) -> int:
    if user.isdigit():
        return uid
    for fields in _rows(root, "/etc/passwd"):
        if fields[0] == user and len(fields) > 3:
            return int(fields[3])
    return uid


def _rows(root: Path, table: str) -> list[list[str]]:
    try:
        text = resolve_in_root(root, table).read_text()
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


@dataclass(frozen=True)
class Deferred:
    """A directory source whose destination directory the copy had to create: its files are
    written after the root is unmounted, straight into the upper directory (`write_deferred`).
    Below a directory the overlay just made nothing shows through, so the upper directory's
    contents are the merged view's, and writing there skips overlayfs for every file."""

    source: Source
    rel: str  # the destination directory inside the root, symlinks resolved
    ids: tuple[int, int]


def copy_sources(root: Path, spec: CopySpec, defer: bool = False) -> Deferred | None:
    """Copy the spec's sources to its destination inside `root` (a mounted root filesystem).

    With `defer`, a copy of one directory to a destination that does not exist yet only
    creates the destination and returns what is left for `write_deferred`."""
    ids = owner(root, spec.chown)
    dest = spec.dest
    if defer and _deferrable(root, spec):
        target = _make_dirs(root, dest, ids)
        return Deferred(spec.sources[0], str(target.relative_to(root)), ids)
    to_dir = (
        spec.parents
        or dest.endswith("/")
        or len(spec.sources) > 1
        or resolve_in_root(root, dest).is_dir()
    )
    for src in spec.sources:
        if src.is_dir:
            target = _make_dirs(root, posixpath.join(dest, src.name) if spec.parents else dest, ids)
            _copy_tree(src.path, target, ids, spec.chmod, list(spec.exclude))
        elif spec.unpack and not src.remote and _is_archive(src.path):
            _unpack(src.path, _make_dirs(root, dest, ids))
        else:
            name = posixpath.join(dest, src.name) if to_dir else dest
            parent = _make_dirs(root, posixpath.dirname(name) or "/", ids if to_dir else None)
            _copy_one(src.path, parent / posixpath.basename(name), ids, spec.chmod)
    return None


def _deferrable(root: Path, spec: CopySpec) -> bool:
    one_dir = len(spec.sources) == 1 and spec.sources[0].is_dir and not spec.parents
    return one_dir and not os.path.lexists(resolve_in_root(root, spec.dest))


def write_deferred(upper: Path, work: Deferred, spec: CopySpec) -> None:
    """The files of a deferred directory source, into `upper` (unmounted) below `work.rel`;
    from the context's spooled tar when the source is in a lazy context (copyindex.py)."""
    target = upper / work.rel
    exclude = list(spec.exclude)
    if not copy_from_index(work.source, target, work.ids, spec.chmod, exclude):
        _copy_tree(work.source.path, target, work.ids, spec.chmod, exclude, fresh=True)


def _make_dirs(root: Path, path: str, ids: tuple[int, int] | None) -> Path:
    """mkdir -p inside the root; directories it creates get `ids` (root:root when None)."""
    current = "/"
    for part in [p for p in path.split("/") if p]:
        current = posixpath.join(current, part)
        target = resolve_in_root(root, current)
        if not target.exists():
            target.mkdir(mode=0o755)
            os.chown(target, *(ids or (0, 0)))
        elif not target.is_dir():
            raise InvalidParameter(f"cannot copy to {path}: {current} is not a directory")
    return resolve_in_root(root, path)


def _copy_tree(src: Path, target: Path, ids: tuple[int, int], mode: int | None,
               exclude: list[Pattern], fresh: bool = False) -> None:  # fmt: skip
    """The contents of directory `src` into `target`; --chmod applies to every level.

    Below a directory this copy created nothing can be in the way, so its entries are written
    without looking first (most of a big COPY: one open, copy and close per file); `fresh`
    says `target` itself is such a directory."""
    entries = walk_source(src, exclude)[1:]
    made = {""} if fresh else set()  # directories made by this copy, relative to `target`
    for rel, path, is_dir in entries:
        parent, name = posixpath.split(rel)
        new = parent in made
        dst = target / rel if new else _real_dirs(target, parent) / name
        if is_dir:
            if new or not dst.is_dir() or dst.is_symlink():
                if not new:
                    _remove(dst)
                dst.mkdir()
                made.add(rel)
            shutil.copystat(path, dst)
            os.chown(dst, *ids)
            if mode is not None:
                os.chmod(dst, mode)
        elif new:
            _copy_new(path, dst, ids, mode)
        else:
            _copy_one(path, dst, ids, mode)
    _restamp_dirs(entries, target)


def _real_dirs(target: Path, rel: str) -> Path:
    """`target/rel` as real directories: a symlink or file in the way is replaced, so writing
    below it never leaves the root (parents are missing when --exclude dropped them)."""
    here = target
    for part in [p for p in rel.split("/") if p]:
        here = here / part
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            _remove(here)
        if not here.exists():
            here.mkdir(mode=0o755)
    return here


def _restamp_dirs(entries: list[tuple[str, Path, bool]], target: Path) -> None:
    """Copying into a directory bumped its mtime; give each back its source's (deepest first)."""
    for rel, path, is_dir in reversed(entries):
        if is_dir:
            st = os.stat(path)
            os.utime(target / rel, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_one(src: Path, dst: Path, ids: tuple[int, int], mode: int | None) -> None:
    _remove(dst)
    _copy_new(src, dst, ids, mode)


def _copy_new(src: Path, dst: Path, ids: tuple[int, int], mode: int | None) -> None:
    """Copy `src` to `dst`, which does not exist: data, mode, xattrs, times, then owner."""
    st = os.lstat(src)
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(src), dst)
        os.chown(dst, *ids, follow_symlinks=False)
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device node (COPY --from an image)
        os.mknod(dst, st.st_mode, st.st_rdev)
        os.chmod(dst, stat.S_IMODE(st.st_mode))  # mknod's mode went through the umask
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.chown(dst, *ids)
        if mode is not None:
            os.chmod(dst, mode)
        return
    _copy_file(src, dst, st, ids, mode)


def _copy_file(src: Path, dst: Path, st: os.stat_result, ids: tuple[int, int],
               mode: int | None) -> None:  # fmt: skip
    """What `shutil.copy2` then chown (then --chmod) did, on two descriptors. The mode is set
    before the owner, as before: chown clears set-id bits, and the layer keeps that."""
    fin = os.open(src, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        fout = os.open(dst, flags, 0o600)
        try:
            _copy_data(fin, fout, st.st_size)
            os.fchmod(fout, stat.S_IMODE(st.st_mode))
            _copy_xattrs(fin, fout)
            os.utime(fout, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.fchown(fout, *ids)
            if mode is not None:
                os.fchmod(fout, mode)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def _copy_data(fin: int, fout: int, size: int) -> None:
    """All of `fin` (to its end, as shutil does), `size` bytes at a time at first."""
    offset = 0
    while sent := os.sendfile(fout, fin, offset, max(size, COPY_CHUNK)):
        offset += sent


def _copy_xattrs(fin: int, fout: int) -> None:
    """The source's extended attributes, as `shutil.copystat` copies them (errors ignored)."""
    try:
        names = os.listxattr(fin)
    except OSError as exc:
        if exc.errno in _XATTR_IGNORED:
            return
        raise
    for name in names:
        try:
            os.setxattr(fout, name, os.getxattr(fin, name))
        except OSError as exc:
            if exc.errno not in _XATTR_IGNORED:
                raise


def _remove(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _is_archive(path: Path) -> bool:
    if not stat.S_ISREG(os.lstat(path).st_mode):
        return False
    try:
        with tarfile.open(path, "r:*") as tf:
            return tf.next() is not None
    except (tarfile.TarError, OSError, EOFError):
        return False


def _unpack(archive: Path, target: Path) -> None:
    with tarfile.open(archive, "r:*") as tf:
        tf.extractall(target, filter="tar")


def copy_words(ins: Instruction, env: Mapping[str, str], escape: str) -> list[str]:
    """COPY/ADD arguments (sources then destination), expanded."""
    words = arguments(ins, env, escape)
    if len(words) < 2:
        raise InvalidParameter(f"{ins.keyword.upper()} requires at least two arguments")
    return words


def source_kind(sources: list[Source]) -> str:
    """Docker's history word for what was copied: file, dir or multi."""
    if len(sources) != 1:
        return "multi"
    return "dir" if sources[0].is_dir else "file"


def destination(dest: str, workdir: str) -> str:
    """The absolute destination: relative to WORKDIR; "." and a trailing "/" mean a directory."""
    if dest.startswith("/"):
        return dest
    joined = workdir.rstrip("/") + "/" + dest
    return joined + "/" if dest in (".", "./") or dest.endswith("/") else joined
