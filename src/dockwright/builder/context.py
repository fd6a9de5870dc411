"""The build context: reading the Dockerfile, pruning ignored files, finding and hashing sources.

A context is a directory: unpacked on disk, or (in the daemon) a lazy one registered with
`attach` (ctxsource.py), which these functions answer from its index (ctxfind.py) and which is
written out only where a Source's `path` is read. These functions touch only the build's own
temporary directory (blocking; the service calls them in a worker thread). Source patterns
follow Go's filepath.Match per path segment, as COPY does.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import re
import shutil
import stat
import tarfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO

from dockwright.builder import ctxfind
from dockwright.builder.copyflags import CopyFlags, excluded, is_url, parents_path
from dockwright.builder.ctxsource import Source, attach, tree_at
from dockwright.builder.ignore import Pattern, is_ignored, may_reinclude_below, parse_ignore
from dockwright.builder.parser import Heredoc, Instruction
from dockwright.errors import InvalidParameter, NotFound, NotImplementedYet

__all__ = ["Source", "attach", "find_all", "find_sources", "hash_sources", "heredoc_source",
           "load_ignore", "materialize", "prune", "read_text", "unpack", "walk_source"]  # fmt: skip


def unpack(fileobj: IO[bytes], root: Path) -> None:
    """Unpack the context tar (plain, gzip, bzip2 or xz) into `root`, refusing escapes."""
    try:
        with tarfile.open(fileobj=fileobj, mode="r:*") as tf:
            tf.extractall(root, filter="tar")
    except (tarfile.TarError, OSError) as exc:
        raise InvalidParameter(f"failed to read the build context: {exc}") from None


def read_text(root: Path, name: str) -> str | None:
    """A text file of the context (Dockerfile, .dockerignore); None when there is none."""
    tree = tree_at(root)
    if tree is not None:
        return ctxfind.read_indexed(tree, name)
    path = root / name.lstrip("/")
    try:
        if not path.resolve().is_relative_to(root.resolve()):
            raise InvalidParameter(f"the Dockerfile ({name}) must be within the build context")
        return path.read_text()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def load_ignore(root: Path, dockerfile: str) -> list[Pattern]:
    """`<Dockerfile>.dockerignore` next to the Dockerfile wins over `.dockerignore`."""
    text = read_text(root, dockerfile + ".dockerignore")
    if text is None:
        text = read_text(root, ".dockerignore") or ""
    return parse_ignore(text)


def prune(root: Path, patterns: list[Pattern]) -> None:
    """Delete what .dockerignore excludes, so nothing can copy it (or hash it); in a lazy
    context, drop it from the index before anything is written out."""
    if not patterns:
        return
    tree = tree_at(root)
    if tree is not None:
        tree.index = tree.index.pruned(patterns)
        return
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        for name in list(dirnames):
            rel = posixpath.join(rel_dir, name)
            if is_ignored(patterns, rel) and not may_reinclude_below(patterns, rel):
                shutil.rmtree(os.path.join(dirpath, name))
                dirnames.remove(name)
        for name in filenames:
            if is_ignored(patterns, posixpath.join(rel_dir, name)):
                os.unlink(os.path.join(dirpath, name))


def _segment_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern).replace(".*", "[^/]*"))


def find_sources(root: Path, pattern: str) -> list[Source]:
    """The context paths a COPY source names (wildcards allowed); empty when nothing matches."""
    tree = tree_at(root)
    if tree is not None:
        return ctxfind.find_indexed(tree, pattern)
    clean = posixpath.normpath("/" + pattern).lstrip("/")
    if not any(ch in clean for ch in "*?["):
        path = root / clean
        if not os.path.lexists(path):
            return []
        return [
            Source(path, posixpath.basename(clean) or ".", path.is_dir() and not path.is_symlink())
        ]
    matches: list[Source] = []
    parts = clean.split("/")
    _glob(root, parts, matches)
    return sorted(matches, key=lambda s: str(s.where))


def _glob(base: Path, parts: list[str], out: list[Source]) -> None:
    head, rest = parts[0], parts[1:]
    regex = _segment_regex(head)
    try:
        names = sorted(os.listdir(base))
    except (NotADirectoryError, FileNotFoundError):
        return
    for name in names:
        if not regex.fullmatch(name):
            continue
        path = base / name
        if rest:
            _glob(path, rest, out)
        else:
            out.append(Source(path, name, path.is_dir() and not path.is_symlink()))


def hash_sources(
    sources: list[Source], exclude: list[Pattern] | None = None
) -> list[tuple[str, int, str]]:
    """(relative name, mode, content digest) for every file under the sources.

    `exclude` (--exclude) drops entries by their path relative to their directory source.
    """
    out: list[tuple[str, int, str]] = []
    for src in sources:
        if src.tree is not None:
            out.extend(ctxfind.hash_indexed(src, exclude or []))
            continue
        if not src.is_dir:
            name, mode, digest = _entry(src.path, src.name)
            stamp = f"@{int(os.lstat(src.path).st_mtime)}" if src.remote else ""
            out.append((name, mode, digest + stamp))
            continue
        for rel, path, is_dir in walk_source(src.path, exclude or []):
            name = posixpath.normpath(posixpath.join(src.name, rel))
            if is_dir:
                out.append((name, stat.S_IMODE(os.lstat(path).st_mode), "dir"))
            else:
                out.append(_entry(path, name))
    return out


def walk_source(top: Path, exclude: list[Pattern]) -> list[tuple[str, Path, bool]]:
    """(path relative to `top`, path, is a real directory) under a directory source, sorted,
    `top` itself first as "."; excluded entries (and directories nothing re-includes) left out."""
    found: list[tuple[str, Path, bool]] = [(".", top, True)]
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        rel_dir = "" if rel_dir == "." else rel_dir
        dirnames.sort()
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in list(dirnames):
            rel = posixpath.join(rel_dir, name)
            if name in links or (
                is_ignored(exclude, rel) and not may_reinclude_below(exclude, rel)
            ):
                dirnames.remove(name)
            elif not is_ignored(exclude, rel):
                found.append((rel, Path(dirpath, name), True))
        for name in sorted(filenames + links):
            rel = posixpath.join(rel_dir, name)
            if not is_ignored(exclude, rel):
                found.append((rel, Path(dirpath, name), False))
    return found


def _entry(path: Path, name: str) -> tuple[str, int, str]:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return name, st.st_mode, "link:" + os.readlink(path)
    if not stat.S_ISREG(st.st_mode):
        return name, st.st_mode, "special"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return name, st.st_mode, h.hexdigest()


def materialize(root: Path, path: str = "") -> None:
    """Blocking: write out context path `path` ("" for all of it) when `root` is a lazy
    context (for what reads the directory itself, e.g. a RUN bind mount); else nothing."""
    tree = tree_at(root)
    if tree is not None:
        resolved = tree.index.resolve(path.strip("/"))
        if resolved is not None:
            tree.materialize(resolved)


def heredoc_source(scratch: Path, doc: Heredoc) -> Source:
    """A `COPY <<name` source: the body written to a file (0644) in the build's scratch dir."""
    path = scratch / doc.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc.content)
    path.chmod(0o644)
    return Source(path, doc.name, False)


def find_all(root: Path, patterns: list[str], ins: Instruction, scratch: Path,
             flags: CopyFlags | None = None,
             fetch: Callable[[str, int], Source] | None = None) -> list[Source]:  # fmt: skip
    """The sources of a COPY/ADD (heredocs written to `scratch`); NotFound when one is missing.

    URLs go to `fetch(url, index)` (ADD only); `flags` applies --exclude and --parents.
    """
    flags = flags or CopyFlags()
    heredocs = {doc.name: doc for doc in ins.heredocs}
    found: list[Source] = []
    for index, pattern in enumerate(patterns):
        name = pattern.removeprefix("<<").lstrip("-")
        if pattern.startswith("<<") and name in heredocs:
            found.append(heredoc_source(scratch, heredocs[name]))
        elif is_url(pattern):
            found.append(_remote(ins, pattern, index, fetch))
        else:
            found.extend(_local(root, pattern, ins, flags))
    return found


def _remote(
    ins: Instruction, url: str, index: int, fetch: Callable[[str, int], Source] | None
) -> Source:
    if ins.keyword != "add":
        raise InvalidParameter("source can't be a URL for COPY")
    if fetch is None:
        raise NotImplementedYet(f"{ins.keyword.upper()} from a URL is not supported here: {url}")
    return fetch(url, index)


def _local(root: Path, pattern: str, ins: Instruction, flags: CopyFlags) -> list[Source]:
    """A context pattern's matches, after --exclude, renamed for --parents."""
    matches = find_sources(root, pattern)
    if not matches:
        raise NotFound(f"{ins.keyword.upper()} failed: file not found in build context or excluded "
                       f"by .dockerignore: stat {pattern}: file does not exist")  # fmt: skip
    exclude = flags.patterns()
    kept: list[Source] = []
    for src in matches:
        rel = src.rel if src.tree is not None else os.path.relpath(src.where, root)
        if excluded(exclude, rel):
            continue
        if flags.parents:
            src = replace(src, name=parents_path(pattern, rel))
        kept.append(src)
    return kept
