"""COPY and ADD into a mounted root filesystem (blocking; run in a worker thread).

Docker's rules: a directory source copies its contents; a file goes to `dest/<name>` when the
destination ends in `/` (or is an existing directory, or there are several sources), else to
`dest` itself; missing parent directories are created (0755); files keep their mode and mtime;
ownership is `--chown` (names looked up in the image's /etc/passwd and /etc/group) or 0:0. ADD
unpacks local tar archives (any compression) into the destination. Paths inside the root are
resolved with symlinks interpreted relative to the root, so nothing escapes it.
"""

from __future__ import annotations

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
from dockwright.builder.ignore import Pattern
from dockwright.builder.parser import Instruction
from dockwright.builder.steps import arguments
from dockwright.errors import InvalidParameter

MAX_LINKS = 40


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


def copy_sources(root: Path, spec: CopySpec) -> None:
    """Copy the spec's sources to its destination inside `root` (a mounted root filesystem)."""
    ids = owner(root, spec.chown)
    dest = spec.dest
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
               exclude: list[Pattern]) -> None:  # fmt: skip
    """The contents of directory `src` into `target`; --chmod applies to every level."""
    for rel, path, is_dir in walk_source(src, exclude)[1:]:
        dst = _real_dirs(target, posixpath.dirname(rel)) / posixpath.basename(rel)
        if is_dir:
            if not dst.is_dir() or dst.is_symlink():
                _remove(dst)
                dst.mkdir()
            shutil.copystat(path, dst)
            os.chown(dst, *ids)
            if mode is not None:
                os.chmod(dst, mode)
        else:
            _copy_one(path, dst, ids, mode)
    _restamp_dirs(src, target, exclude)


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


def _restamp_dirs(src: Path, target: Path, exclude: list[Pattern]) -> None:
    """Copying into a directory bumped its mtime; give each back its source's (deepest first)."""
    for rel, path, is_dir in reversed(walk_source(src, exclude)[1:]):
        if is_dir:
            st = os.stat(path)
            os.utime(target / rel, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_one(src: Path, dst: Path, ids: tuple[int, int], mode: int | None) -> None:
    _remove(dst)
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
        os.chown(dst, *ids, follow_symlinks=False)
        return
    shutil.copy2(src, dst)
    os.chown(dst, *ids)
    if mode is not None:
        os.chmod(dst, mode)


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
