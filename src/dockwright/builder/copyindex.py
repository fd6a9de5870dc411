"""COPY of a directory of a lazy context straight from the spooled tar into the layer.

A lazy context (ctxsource.py, ctxtree.py) writes a source out the first time its path is asked
for; a COPY would then read those files back and write them again. This writes each file once,
from the spool into its destination, with what the copy of the written-out file would have
had: the index's mode and mtime (as ctxtree.py writes them), no xattrs, then the COPY's owner
and --chmod. Entries are chosen as `context.walk_source` chooses them (--exclude, a directory
nothing re-includes is skipped, a symlink to a directory is copied as a link).
Blocking; the destination is a directory this copy just made, so nothing is in the way.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

from dockwright.builder.ctxindex import ContextIndex, Entry
from dockwright.builder.ctxsource import Source
from dockwright.builder.ctxtree import copy_range
from dockwright.builder.ignore import Pattern, is_ignored, may_reinclude_below

Picked = list[tuple[str, Entry]]  # (path relative to the source directory, its entry)


def pick(index: ContextIndex, top: str, exclude: list[Pattern]) -> Picked:
    """The entries below directory `top` that a copy of it writes, parents first."""
    out: Picked = []
    _pick(index, top, "", exclude, out)
    return out


def _pick(index: ContextIndex, top: str, rel_dir: str, exclude: list[Pattern],
          out: Picked) -> None:  # fmt: skip
    here = posixpath.join(top, rel_dir) if top and rel_dir else top or rel_dir
    for name in index.listdir(here):
        rel = posixpath.join(rel_dir, name) if rel_dir else name
        entry = index.get(posixpath.join(here, name) if here else name)
        if entry is None:
            continue
        ignored = is_ignored(exclude, rel)
        if entry.kind != "dir":
            if not ignored:
                out.append((rel, entry))
            continue
        if ignored and not may_reinclude_below(exclude, rel):
            continue
        if not ignored:
            out.append((rel, entry))
        _pick(index, top, rel, exclude, out)


@dataclass(frozen=True)
class _Owner:
    """Who the written entries belong to, and which calls that makes unnecessary: a file is
    created with its mode (so no fchmod unless the umask takes bits away) by the daemon's
    user (so no fchown when that is the owner wanted: every directory of the copy has the
    wanted group, so a set-group-id parent gives the same)."""

    ids: tuple[int, int]
    chmod: int | None  # --chmod
    umask: int
    chown: bool

    @classmethod
    def of(cls, ids: tuple[int, int], chmod: int | None) -> _Owner:
        return cls(ids, chmod, current_umask(), ids != (os.geteuid(), os.getegid()))


def current_umask() -> int:
    """The process's umask, read without changing it (os.umask would, for all threads)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o777  # unknown: every mode is set explicitly


def copy_from_index(src: Source, target: Path, ids: tuple[int, int], mode: int | None,
                    exclude: list[Pattern]) -> bool:  # fmt: skip
    """Write directory source `src` into the new directory `target`; False (nothing done)
    when `src` is not in a lazy context."""
    tree = src.tree
    if tree is None or not src.is_dir:
        return False
    picked = pick(tree.index, src.rel, exclude)
    owner = _Owner.of(ids, mode)
    made = {""}  # directories that exist, relative to `target`
    fd = os.open(tree.spool, os.O_RDONLY | os.O_CLOEXEC)
    try:
        for rel, entry in picked:
            _write(fd, f"{target}/", rel, entry, owner, made)
    finally:
        os.close(fd)
    _restamp(target, picked)
    return True


def _write(spool: int, top: str, rel: str, entry: Entry, owner: _Owner,
           made: set[str]) -> None:  # fmt: skip
    dst = top + rel
    parent = rel.rpartition("/")[0]
    if parent not in made:  # its directory was excluded: made as a plain 0755 one
        os.makedirs(top + parent, mode=0o755, exist_ok=True)
        made.update(_ancestors(parent))
    if entry.kind == "symlink":
        os.symlink(entry.target, dst)
        os.chown(dst, *owner.ids, follow_symlinks=False)
        return
    if entry.kind == "dir":
        os.mkdir(dst, 0o700)
        os.chmod(dst, entry.mode)
        os.chown(dst, *owner.ids)
        if owner.chmod is not None:
            os.chmod(dst, owner.chmod)
        made.add(rel)
        return
    _write_file(spool, dst, entry, owner)


def _ancestors(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]


def _write_file(spool: int, dst: str, entry: Entry, owner: _Owner) -> None:
    """Open, copy, stamp, close: the mode and owner the file was created with are right
    unless `owner` says otherwise (the result is what fchmod+fchown would give)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(dst, flags, entry.mode)
    try:
        offset, left = entry.offset, entry.size
        while left > 0:
            n = copy_range(spool, fd, offset, left)
            offset, left = offset + n, left - n
        if entry.mode & owner.umask:
            os.fchmod(fd, entry.mode)
        os.utime(fd, (entry.mtime, entry.mtime))
        if owner.chown:
            os.fchown(fd, *owner.ids)
        if owner.chmod is not None:
            os.fchmod(fd, owner.chmod)
    finally:
        os.close(fd)


def _restamp(target: Path, picked: Picked) -> None:
    """Directory mtimes, deepest first, once nothing more is written into them (one the tar
    only implies keeps the time it was made, as when the context is written out)."""
    for rel, entry in reversed(picked):
        if entry.kind == "dir" and entry.mtime >= 0:
            os.utime(target / rel, (entry.mtime, entry.mtime))
