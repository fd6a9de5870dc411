"""The build context the CLI sends: a directory tarred on the fly, stdin, or a git clone.

Plan (which files, which Dockerfile name) is kept apart from act (reading and streaming them).
The tar is produced member by member as chunks, so a large context never sits in memory.
"""

from __future__ import annotations

import os
import stat
import tarfile
import time

from dockwright.cli.context import CommandExit
from dockwright.cli.ignore import Matcher, read_patterns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import IO

CHUNK = 256 * 1024
_ARCHIVE_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


class LocalDir:
    """A context read from a local directory: `paths` below `root`, then `extra` members;
    `dockwright build` syncs it (buildsync.py) instead of sending it whole."""

    def __init__(self, root: str, paths: Iterable[str], extra: list[bytes]) -> None:
        self.root, self.paths, self.extra = root, list(paths), extra


class Context:
    """What to send: the tar chunks and the Dockerfile's name inside the tar (and, for a
    local directory, where the chunks come from)."""

    def __init__(
        self, chunks: Iterable[bytes], dockerfile: str, local: LocalDir | None = None
    ) -> None:
        self.chunks, self.dockerfile, self.local = chunks, dockerfile, local

    @classmethod
    def of_directory(cls, local: LocalDir, dockerfile: str) -> Context:
        return cls(tar_directory(local.root, local.paths, local.extra), dockerfile, local)


def is_archive(head: bytes) -> bool:
    """Compressed or plain tar (ustar magic at 257), as docker's DetectArchiveReader."""
    return head.startswith(_ARCHIVE_MAGIC) or head[257:262] == b"ustar"


def is_git_url(text: str) -> bool:
    """docker's urlutil.IsGitURL, plus file:// URLs and local bare repositories (`*.git`)."""
    if text.startswith(("git://", "git@", "github.com/", "file://")):
        return True
    base = text.partition("#")[0]
    if text.startswith(("http://", "https://")):
        return base.endswith(".git") or "#" in text
    return base.endswith(".git") and os.path.isfile(os.path.join(base, "HEAD"))


def ignore_patterns(context_dir: str, dockerfile_rel: str) -> list[str]:
    """`<Dockerfile>.dockerignore` when it exists, else `.dockerignore`; never ignore the
    Dockerfile and the ignore file themselves (docker's TrimBuildFilesFromExcludes)."""
    names = [dockerfile_rel + ".dockerignore", ".dockerignore"] if dockerfile_rel else []
    for name in names or [".dockerignore"]:
        path = os.path.join(context_dir, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = read_patterns(f.read())
            break
    else:
        lines = []
    if lines and dockerfile_rel:
        lines += ["!" + dockerfile_rel, "!.dockerignore", f"!{dockerfile_rel}.dockerignore"]
    return lines


def walk(root: str, matcher: Matcher) -> Iterator[str]:
    """Relative paths (sorted, parents first) of what the context sends."""
    return _walk_dir(root, "", matcher)


def _walk_dir(root: str, rel_dir: str, matcher: Matcher) -> Iterator[str]:
    with os.scandir(os.path.join(root, rel_dir) if rel_dir else root) as found:
        names = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in found)
    for name, is_dir in names:
        rel = f"{rel_dir}/{name}" if rel_dir else name
        excluded = matcher.excluded(rel)
        if not excluded:
            yield rel
        if is_dir and (not excluded or matcher.may_include_below(rel)):
            yield from _walk_dir(root, rel, matcher)


def tar_info(full: str, rel: str) -> tarfile.TarInfo | None:
    """A member header owned by root like docker's (ChownOpts 0:0); None for devices, sockets."""
    st = os.lstat(full)
    info = tarfile.TarInfo(rel)
    info.mode, info.mtime, info.uid, info.gid = stat.S_IMODE(st.st_mode), int(st.st_mtime), 0, 0
    if stat.S_ISDIR(st.st_mode):
        info.type, info.name = tarfile.DIRTYPE, rel + "/"
    elif stat.S_ISLNK(st.st_mode):
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(full)
    elif stat.S_ISREG(st.st_mode):
        info.size = st.st_size
    else:
        return None
    return info


def _header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def tar_member(full: str, rel: str) -> Iterator[bytes]:
    info = tar_info(full, rel)
    if info is None:
        return
    yield _header(info)
    if not info.isreg():
        return
    left = info.size
    with open(full, "rb") as f:
        while left > 0 and (data := f.read(min(CHUNK, left))):
            left -= len(data)
            yield data
    if left:  # the file shrank while we read it: keep the archive well-formed
        yield b"\0" * left
    yield b"\0" * (-info.size % 512)


def file_member(name: str, data: bytes, mode: int = 0o600) -> bytes:
    """A generated member (a Dockerfile from stdin, a rewritten .dockerignore)."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(time.time())
    return _header(info) + data + b"\0" * (-len(data) % 512)


def tar_directory(root: str, paths: Iterable[str], extra: Iterable[bytes] = ()) -> Iterator[bytes]:
    """The tar stream of `paths` under `root`, then the `extra` members and the end blocks."""
    pending: list[bytes] = []
    size = 0
    for rel in paths:
        for piece in tar_member(os.path.join(root, rel), rel):
            pending.append(piece)
            size += len(piece)
            if size >= CHUNK:
                yield b"".join(pending)
                pending, size = [], 0
    pending.extend(extra)
    pending.append(b"\0" * 1024)
    yield b"".join(pending)


def read_stream(f: IO[bytes], head: bytes = b"") -> Iterator[bytes]:
    if head:
        yield head
    while data := f.read(CHUNK):
        yield data


def fail(message: str) -> CommandExit:
    return CommandExit(1, f"unable to prepare context: {message}")
