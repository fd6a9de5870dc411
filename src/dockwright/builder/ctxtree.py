"""The context directory, written out from the spooled tar only where a step needs it.

A `LazyTree` starts as an empty directory next to the spool; `materialize(path)` writes that
path (everything below it when it is a directory) and its parent directories, once. A fully
cached build therefore writes nothing; a COPY that misses writes just its sources. Blocking
(worker threads); a lock makes concurrent stages write each path once.

What is written follows the index (ctxindex.py), which already refused escapes and dropped
devices: files are created with O_EXCL|O_NOFOLLOW, parents are real directories this tree made,
modes, owners and mtimes are the index's (directories get theirs back after each write).
"""

from __future__ import annotations

import os
import posixpath
import threading
from pathlib import Path

from dockwright.builder.ctxindex import ContextIndex, Entry

COPY_BLOCK = 1 << 20


class LazyTree:
    """`root` filled from `spool` (the uncompressed context tar) per `index`."""

    def __init__(self, root: Path, index: ContextIndex, spool: Path) -> None:
        self.root, self.index, self.spool = root, index, spool
        self._written: set[str] = {""}
        self._lock = threading.Lock()

    def materialize(self, path: str) -> None:
        """Write context path `path` (resolved, '/'-separated; "" for all) and what is below."""
        with self._lock:
            todo = [p for p in self._closure(path) if p not in self._written]
            if not todo:
                return
            fd = os.open(self.spool, os.O_RDONLY | os.O_CLOEXEC)
            try:
                for p in todo:
                    self._write(fd, p, self.index.get(p) or Entry("dir", 0o755))
                    self._written.add(p)
            finally:
                os.close(fd)
            self._restamp(todo)

    def _closure(self, path: str) -> list[str]:
        """`path`'s parents, `path`, and (for a directory) everything below it, in order."""
        parts = path.split("/") if path else []
        out = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        entry = self.index.get(path)
        if entry is not None and entry.kind == "dir":
            out.extend(self.index.walk(path))
        return out

    def _write(self, spool_fd: int, path: str, entry: Entry) -> None:
        target = self.root / path
        if entry.kind == "dir":
            os.mkdir(target, 0o700)
            os.chmod(target, entry.mode)
        elif entry.kind == "symlink":
            os.symlink(entry.target, target)
        else:
            _write_file(spool_fd, target, entry)
        if entry.uid or entry.gid:
            os.chown(target, entry.uid, entry.gid, follow_symlinks=False)
        if entry.kind != "dir":
            os.utime(target, (entry.mtime, entry.mtime), follow_symlinks=False)

    def _restamp(self, written: list[str]) -> None:
        """Writing into a directory bumped its mtime: give the index's back, deepest first."""
        dirs = {posixpath.dirname(p) for p in written} | set(written)
        for path in sorted(dirs, key=lambda p: -p.count("/") if p else 1):
            entry = self.index.entries.get(path)
            if entry is not None and entry.kind == "dir" and entry.mtime >= 0:
                os.utime(self.root / path, (entry.mtime, entry.mtime), follow_symlinks=False)


def _write_file(spool_fd: int, target: Path, entry: Entry) -> None:
    """The file's bytes straight from the spool (copy_file_range: no pass through Python)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)  # fmt: skip
    try:
        offset, left = entry.offset, entry.size
        while left > 0:
            n = copy_range(spool_fd, fd, offset, left)
            offset, left = offset + n, left - n
        os.fchmod(fd, entry.mode)
    finally:
        os.close(fd)


def copy_range(src: int, dst: int, offset: int, count: int) -> int:
    """Copy up to `count` bytes of `src` from `offset` to `dst`: copy_file_range, else pread."""
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
