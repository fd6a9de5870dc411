"""The build context on disk: unpacking the uploaded tar, pruning ignored files, finding sources.

These functions touch only the build's own temporary directory (blocking; the service calls them
in a worker thread). Source patterns follow Go's filepath.Match per path segment, as COPY does.
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dockwright.builder.ignore import Pattern, is_ignored, may_reinclude_below, parse_ignore
from dockwright.builder.parser import Heredoc, Instruction
from dockwright.errors import InvalidParameter, NotFound, NotImplementedYet


@dataclass(frozen=True)
class Source:
    """One matched source: its path on disk and the name it is copied under."""

    path: Path
    name: str  # base name (used when the destination is a directory)
    is_dir: bool


def unpack(fileobj: IO[bytes], root: Path) -> None:
    """Unpack the context tar (plain, gzip, bzip2 or xz) into `root`, refusing escapes."""
    try:
        with tarfile.open(fileobj=fileobj, mode="r:*") as tf:
            tf.extractall(root, filter="tar")
    except (tarfile.TarError, OSError) as exc:
        raise InvalidParameter(f"failed to read the build context: {exc}") from None


def read_text(root: Path, name: str) -> str | None:
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
    """Delete what .dockerignore excludes, so nothing can copy it (or hash it)."""
    if not patterns:
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
    return sorted(matches, key=lambda s: str(s.path))


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


def hash_sources(sources: list[Source]) -> list[tuple[str, int, str]]:
    """(relative name, mode, content digest) for every file under the sources."""
    out: list[tuple[str, int, str]] = []
    for src in sources:
        if not src.is_dir:
            out.append(_entry(src.path, src.name))
            continue
        for dirpath, dirnames, filenames in os.walk(src.path):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, src.path)
            out.append(
                (posixpath.join(src.name, rel_dir), stat.S_IMODE(os.lstat(dirpath).st_mode), "dir")
            )
            for name in sorted(filenames) + [
                d for d in dirnames if os.path.islink(os.path.join(dirpath, d))
            ]:
                out.append(_entry(Path(dirpath, name), posixpath.join(src.name, rel_dir, name)))
    return out


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


def heredoc_source(scratch: Path, doc: Heredoc) -> Source:
    """A `COPY <<name` source: the body written to a file (0644) in the build's scratch dir."""
    path = scratch / doc.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc.content)
    path.chmod(0o644)
    return Source(path, doc.name, False)


def find_all(root: Path, patterns: list[str], ins: Instruction, scratch: Path) -> list[Source]:
    """The sources of a COPY/ADD (heredocs written to `scratch`); NotFound when one is missing."""
    heredocs = {doc.name: doc for doc in ins.heredocs}
    found: list[Source] = []
    for pattern in patterns:
        name = pattern.removeprefix("<<").lstrip("-")
        if pattern.startswith("<<") and name in heredocs:
            found.append(heredoc_source(scratch, heredocs[name]))
            continue
        if pattern.startswith(("http://", "https://")):
            raise NotImplementedYet(
                f"{ins.keyword.upper()} from a URL is not supported yet: {pattern}"
            )
        matches = find_sources(root, pattern)
        if not matches:
            raise NotFound(f"{ins.keyword.upper()} failed: file not found in build context or excluded "
                           f"by .dockerignore: stat {pattern}: file does not exist")  # fmt: skip
        found.extend(matches)
    return found
