"""Read-only walks over layer and upper directories: their size and their changes.

`changes(upper, lowers)` is what `docker diff` and `GET /containers/{id}/changes` report: walk
the container's overlay upper directory in lexical order; an overlay whiteout (0:0 char device)
or an opaque directory is a deletion, a path that exists in some lower layer is a modification,
anything else an addition. Parents of added or deleted paths are reported modified once.
Directories identical in mode, size and mtime to their lower copy (overlayfs copied them up only
to reach a child) are not reported themselves. This mirrors moby's overlay change detection.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator, Sequence
from enum import IntEnum
from pathlib import Path

from dockwright.image.tarplan import OPAQUE_XATTR


class ChangeKind(IntEnum):
    """Docker's change kinds (`Kind` in `/containers/{id}/changes`)."""

    MODIFIED = 0
    ADDED = 1
    DELETED = 2


Change = tuple[ChangeKind, str]


def _entries(root: Path, rel: str) -> Iterator[tuple[str, os.stat_result]]:
    with os.scandir(root / rel.lstrip("/") if rel else root) as it:
        entries = sorted(it, key=lambda e: e.name)
    return iter([(f"{rel}/{e.name}", e.stat(follow_symlinks=False)) for e in entries])


def walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(path with a leading '/', lstat) of every entry under `root`: depth-first, each directory
    right before its children, names in lexical order. Iterative, so depth is no limit."""
    stack = [_entries(root, "")]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        yield item
        if stat.S_ISDIR(item[1].st_mode):
            stack.append(_entries(root, item[0]))


def tree_size(root: Path) -> int:
    """Bytes used by the files under `root`, hardlinks counted once (Docker's DiffSize)."""
    seen: set[int] = set()
    total = 0
    for _, st in walk(root):
        if stat.S_ISDIR(st.st_mode) or st.st_size == 0 or st.st_ino in seen:
            continue
        seen.add(st.st_ino)
        total += st.st_size
    return total


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _lower_stat(lowers: Sequence[Path], rel: str) -> os.stat_result | None:
    for lower in lowers:
        try:
            return os.lstat(lower / rel.lstrip("/"))
        except (FileNotFoundError, NotADirectoryError):
            continue
    return None


def _same_dir(st: os.stat_result, lower: os.stat_result) -> bool:
    return (
        stat.S_ISDIR(lower.st_mode)
        and st.st_size == lower.st_size
        and st.st_mode == lower.st_mode
        and _same_time(st.st_mtime_ns, lower.st_mtime_ns)
    )


def _same_time(a: int, b: int) -> bool:
    """Equal, or equal seconds where one side lacks nanoseconds (moby's sameFsTime)."""
    second = 1_000_000_000
    return a == b or (a // second == b // second and (a % second == 0 or b % second == 0))


def _kind(upper: Path, lowers: Sequence[Path], rel: str, st: os.stat_result) -> ChangeKind | None:
    """The change one upper entry stands for; None for an untouched copied-up directory."""
    if is_whiteout(st) or (stat.S_ISDIR(st.st_mode) and is_opaque(upper / rel.lstrip("/"))):
        return ChangeKind.DELETED
    lower = _lower_stat(lowers, rel)
    if lower is None:
        return ChangeKind.ADDED
    if stat.S_ISDIR(st.st_mode) and _same_dir(st, lower):
        return None
    return ChangeKind.MODIFIED


def changes(upper: Path, lowers: Sequence[Path]) -> list[Change]:
    """The filesystem changes an upper directory makes over `lowers` (top layer first)."""
    out: list[Change] = []
    changed_dirs: set[str] = set()
    for rel, st in walk(upper):
        kind = _kind(upper, lowers, rel, st)
        if kind is None:
            continue
        if stat.S_ISDIR(st.st_mode):
            changed_dirs.add(rel)
        if kind in (ChangeKind.ADDED, ChangeKind.DELETED):
            parent = posixpath.dirname(rel)
            if parent != "/" and parent not in changed_dirs:
                out.append((ChangeKind.MODIFIED, parent))
                changed_dirs.add(parent)
        out.append((kind, rel))
    return out
