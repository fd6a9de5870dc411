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
from pathlib import Path

from dockwright.builder.ctxindex import ContextIndex, Entry
from dockwright.builder.ctxsource import Source
from dockwright.builder.ignore import Pattern, is_ignored, may_reinclude_below

COPY_BLOCK = 1 << 20
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


def copy_from_index(src: Source, target: Path, ids: tuple[int, int], mode: int | None,
                    exclude: list[Pattern]) -> bool:  # fmt: skip
    """Write directory source `src` into the new directory `target`; False (nothing done)
    when `src` is not in a lazy context."""
    tree = src.tree
    if tree is None or not src.is_dir:
        return False
    picked = pick(tree.index, src.rel, exclude)
    fd = os.open(tree.spool, os.O_RDONLY | os.O_CLOEXEC)
    try:
        for rel, entry in picked:
            _write(fd, target, rel, entry, ids, mode)
    finally:
        os.close(fd)
    _restamp(target, picked)
    return True


def _write(spool: int, target: Path, rel: str, entry: Entry, ids: tuple[int, int],
           mode: int | None) -> None:  # fmt: skip
    dst = target / rel
    parent = dst.parent
    if not parent.is_dir():  # its directory was excluded: made as a plain 0755 one
        parent.mkdir(mode=0o755, parents=True)
    if entry.kind == "symlink":
        os.symlink(entry.target, dst)
        os.chown(dst, *ids, follow_symlinks=False)
        return
    if entry.kind == "dir":
        os.mkdir(dst, 0o700)
        os.chmod(dst, entry.mode)
        os.chown(dst, *ids)
        if mode is not None:
            os.chmod(dst, mode)
        return
    _write_file(spool, dst, entry, ids, mode)


def _write_file(spool: int, dst: Path, entry: Entry, ids: tuple[int, int],
                mode: int | None) -> None:  # fmt: skip
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(dst, flags, 0o600)
    try:
        offset, left = entry.offset, entry.size
        while left > 0:
            n = _copy_range(spool, fd, offset, left)
            offset, left = offset + n, left - n
        os.fchmod(fd, entry.mode)
        os.utime(fd, (entry.mtime, entry.mtime))
        os.fchown(fd, *ids)
        if mode is not None:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _copy_range(src: int, dst: int, offset: int, count: int) -> int:
    try:
        n = os.copy_file_range(src, dst, min(count, 1 << 30), offset)
    except OSError:
        n = 0
    if n > 0:
        return n
    data = os.pread(src, min(count, COPY_BLOCK), offset)
    if not data:
        raise OSError(f"the context spool ends before {offset + count} bytes")
    os.write(dst, data)
    return len(data)


def _restamp(target: Path, picked: Picked) -> None:
    """Directory mtimes, deepest first, once nothing more is written into them (one the tar
    only implies keeps the time it was made, as when the context is written out)."""
    for rel, entry in reversed(picked):
        if entry.kind == "dir" and entry.mtime >= 0:
            os.utime(target / rel, (entry.mtime, entry.mtime))
