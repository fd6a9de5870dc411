"""A COPY/ADD source, and which context directories are lazy (written out on demand).

A build's context directory is registered with `attach` while the build runs; the context
functions (context.py) then answer from its index instead of the disk, and a `Source` found
there is written out (ctxtree.py) the first time its `path` is asked for: the cache key never
needs the files, and a step that misses gets exactly its sources on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dockwright.builder.ctxtree import LazyTree

_TREES: dict[Path, LazyTree] = {}


@dataclass(frozen=True)
class Source:
    """One matched source: its path on disk and the name it is copied under."""

    where: Path  # where it is (or will be, for a lazy context) on disk
    name: str  # base name (used when the destination is a directory); a path with --parents
    is_dir: bool
    remote: bool = False  # downloaded by ADD <url>: never unpacked; its mtime is in the key
    tree: LazyTree | None = field(default=None, compare=False, repr=False)
    rel: str = ""  # its path in `tree`'s index (symlinks followed)

    @property
    def path(self) -> Path:
        """The source on disk; in a lazy context, written out (with what is below it) first.
        Blocking: read it in a worker thread."""
        if self.tree is not None:
            self.tree.materialize(self.rel)
        return self.where


@contextmanager
def attach(tree: LazyTree) -> Iterator[LazyTree]:
    """Make `tree.root` a lazy context for the duration of the `with`."""
    _TREES[tree.root] = tree
    try:
        yield tree
    finally:
        _TREES.pop(tree.root, None)


def tree_at(root: Path) -> LazyTree | None:
    """The lazy context whose directory is `root`, if `root` is one."""
    return _TREES.get(root)
