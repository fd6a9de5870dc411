"""Finding, hashing and reading context paths from a lazy context's index (no disk reads).

The answers are the ones context.py gives for an unpacked directory — the same matches, the
same (name, mode, digest) entries in the same order, so cache keys do not depend on whether the
files were ever written out — except that symlinks are followed inside the context only.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import stat

from dockwright.builder.ctxindex import ContextIndex, Entry, read_file
from dockwright.builder.ctxsource import Source
from dockwright.builder.ctxtree import LazyTree
from dockwright.builder.ignore import Pattern, is_ignored, may_reinclude_below
from dockwright.errors import InvalidParameter

WILDCARDS = "*?["


def clean_pattern(pattern: str) -> str:
    return posixpath.normpath("/" + pattern).lstrip("/")


def find_indexed(tree: LazyTree, pattern: str) -> list[Source]:
    """The context paths a COPY source names (wildcards allowed); empty when nothing matches."""
    clean = clean_pattern(pattern)
    if not any(ch in clean for ch in WILDCARDS):
        resolved = tree.index.resolve(clean)
        entry = None if resolved is None else tree.index.get(resolved)
        if resolved is None or entry is None:
            return []
        return [_source(tree, resolved, posixpath.basename(clean) or ".", entry)]
    found: list[Source] = []
    _glob(tree, "", clean.split("/"), found)
    return sorted(found, key=lambda s: str(s.where))


def _source(tree: LazyTree, path: str, name: str, entry: Entry) -> Source:
    return Source(tree.root / path if path else tree.root, name, entry.kind == "dir",
                  tree=tree, rel=path)  # fmt: skip


def _segment_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern).replace(".*", "[^/]*"))


def _glob(tree: LazyTree, base: str, parts: list[str], out: list[Source]) -> None:
    head, rest = parts[0], parts[1:]
    regex = _segment_regex(head)
    for name in tree.index.listdir(base):
        if not regex.fullmatch(name):
            continue
        path = posixpath.join(base, name) if base else name
        entry = tree.index.get(path)
        if entry is None:
            continue
        if not rest:
            out.append(_source(tree, path, name, entry))
            continue
        inner = tree.index.resolve(path, follow_last=True)
        if inner is not None and (tree.index.get(inner) or entry).kind == "dir":
            _glob(tree, inner, rest, out)


def hash_indexed(src: Source, exclude: list[Pattern]) -> list[tuple[str, int, str]]:
    """(relative name, mode, content digest) for every path under a lazy source (the same
    list each time it is asked again of one index: do not change it)."""
    assert src.tree is not None
    index = src.tree.index
    key = ("hash", src.rel, src.name, src.is_dir, tuple(exclude))
    return index.memo(key, lambda: _hash_indexed(index, src, exclude))


def _hash_indexed(index: ContextIndex, src: Source,
                  exclude: list[Pattern]) -> list[tuple[str, int, str]]:  # fmt: skip
    entry = index.get(src.rel)
    if entry is None:
        raise InvalidParameter(f"no such path in the build context: {src.rel}")
    if not src.is_dir:
        return [(src.name, entry.st_mode, _digest(entry))]
    out: list[tuple[str, int, str]] = []
    for rel, path, is_dir in walk_indexed(index, src.rel, exclude):
        name = posixpath.normpath(posixpath.join(src.name, rel))
        found = index.get(path) or entry
        out.append((name, stat.S_IMODE(found.mode), "dir") if is_dir
                   else (name, found.st_mode, _digest(found)))  # fmt: skip
    return out


def _digest(entry: Entry) -> str:
    return "link:" + entry.target if entry.kind == "symlink" else entry.digest


def walk_indexed(index: ContextIndex, top: str,
                 exclude: list[Pattern]) -> list[tuple[str, str, bool]]:  # fmt: skip
    """context.walk_source over the index: (path relative to `top`, context path, is a real
    directory), in the order os.walk gives there, `top` first as "."."""
    found: list[tuple[str, str, bool]] = [(".", top, True)]
    _visit(index, top, "", exclude, found)
    return found


def _visit(index: ContextIndex, top: str, rel_dir: str, exclude: list[Pattern],
           found: list[tuple[str, str, bool]]) -> None:  # fmt: skip
    here = posixpath.join(top, rel_dir) if rel_dir else top
    dirs: list[str] = []
    files: list[str] = []
    descend: list[str] = []
    for name in index.listdir(here):
        entry = index.get(posixpath.join(here, name) if here else name)
        (dirs if entry is not None and entry.kind == "dir" else files).append(name)
    for name in dirs:
        rel = posixpath.join(rel_dir, name)
        if is_ignored(exclude, rel) and not may_reinclude_below(exclude, rel):
            continue
        descend.append(rel)
        if not is_ignored(exclude, rel):
            found.append((rel, _join(top, rel), True))
    for name in files:
        rel = posixpath.join(rel_dir, name)
        if not is_ignored(exclude, rel):
            found.append((rel, _join(top, rel), False))
    for rel in descend:
        _visit(index, top, rel, exclude, found)


def _join(top: str, rel: str) -> str:
    return posixpath.join(top, rel) if top else rel


def read_indexed(tree: LazyTree, name: str) -> str | None:
    """A text file of the context (the Dockerfile, .dockerignore), or None when missing."""
    clean = posixpath.normpath(name.lstrip("/")) if name.strip("/") else "."
    if clean == ".." or clean.startswith("../"):
        raise InvalidParameter(f"the Dockerfile ({name}) must be within the build context")
    resolved = tree.index.resolve(clean, follow_last=True)
    entry = None if resolved is None else tree.index.get(resolved)
    if entry is None or entry.kind != "file":
        return None
    with open(tree.spool, "rb") as f:
        text = read_file(f, entry).decode()
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as Path.read_text reads it
