"""Produce a layer tarball from a directory (a container's upper dir or a layer's diff).

The reverse of `extract`: overlayfs whiteouts (0:0 character devices) become OCI ``.wh.<name>``
files and an opaque directory (trusted.overlay.opaque=y) gets a ``.wh..wh..opq`` entry right after
it. Entries come in lexical depth-first order, mtimes truncated to seconds and no user/group names,
so the same tree always gives the same bytes (and the same diff_id). Hardlinked files are stored
once and linked afterwards; sockets are skipped, as Docker does. With `clamp` (a build's
SOURCE_DATE_EPOCH) no mtime is later than it, so a rebuild at another time gives the same bytes.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

from dockwright.image.fstree import is_opaque, is_whiteout, walk
from dockwright.image.tarplan import WHITEOUT_OPAQUE, WHITEOUT_PREFIX

_PAX_XATTR = "SCHILY.xattr."
IO_BLOCK = 1 << 20  # tarfile's file reads: few, big ones (see tar_diff)
GATHER = 1 << 18  # small writes are handed out together once there are this many bytes
_SKIPPED_XATTRS = "trusted.overlay."
Visit = Callable[[str, os.stat_result], None]


class _Sink:
    """A write-only file collecting what tarfile writes, handed out in chunks: small writes
    (headers, small files, padding) joined into chunks of at least `GATHER` bytes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._written = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._size += len(data)
        return len(data)

    def tell(self) -> int:
        """Where the archive is (tarfile asks once, when it starts)."""
        return self._written + self._size

    def take(self, final: bool = False) -> Iterator[bytes]:
        """What was written, once there is enough of it (all of it when `final`)."""
        if self._size < GATHER and not final:
            return
        parts, size, self._parts, self._size = self._parts, self._size, [], 0
        self._written += size
        if size < IO_BLOCK:
            if parts:
                yield b"".join(parts)
            return
        yield from parts


def tar_diff(root: Path, clamp: int | None = None,
             visit: Visit | None = None) -> Iterator[bytes]:  # fmt: skip
    """The layer tar of `root` as a stream of chunks (uncompressed); mtimes at most `clamp`.

    `visit(path, lstat)` is called for every entry once it is in the tar (fromdir.py uses it
    to bring the tree into extracted form in the same walk).

    File data moves in 1 MiB reads, unbuffered (not tarfile's stream mode: 16 KiB reads
    through a 10 KiB buffer), and small entries leave as one chunk each: every read, write or
    hash of a chunk releases the GIL, and a thread that releases it thousands of times waits
    for it as often while another thread runs Python (a commit next to a COPY's tar: 4x
    slower). The bytes are the same: the tar's end is padded to its record size either way.
    Chunks may hold entries `visit` has seen (their bytes are read before it is called)."""
    sink = _Sink()
    links: dict[tuple[int, int], str] = {}
    with tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT,
                      copybufsize=IO_BLOCK) as tf:  # type: ignore[call-overload]  # fmt: skip
        for rel, st in walk(root):
            for info in _infos(root, rel.lstrip("/"), st, links):
                if clamp is not None:
                    info.mtime = min(info.mtime, clamp)
                _add(tf, root, info)
                yield from sink.take()
            if visit is not None:
                visit(rel, st)
    yield from sink.take(final=True)


def _add(tf: tarfile.TarFile, root: Path, info: tarfile.TarInfo) -> None:
    if info.isreg() and info.size:
        with (root / info.name).open("rb") as data:
            tf.addfile(info, data)
    else:
        tf.addfile(info)


def _base(name: str, st: os.stat_result) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    info.mtime = int(st.st_mtime)
    return info


def _infos(
    root: Path, name: str, st: os.stat_result, links: dict[tuple[int, int], str]
) -> list[tarfile.TarInfo]:
    """The tar header(s) one directory entry becomes (none for a socket)."""
    path = root / name
    info = _base(name, st)
    mode = st.st_mode
    if is_whiteout(st):
        head, _, tail = name.rpartition("/")
        info.name = f"{head}/{WHITEOUT_PREFIX}{tail}" if head else WHITEOUT_PREFIX + tail
        info.type, info.mode = tarfile.REGTYPE, 0o600
        return [info]
    if stat.S_ISSOCK(mode):
        return []
    info.pax_headers = _xattrs(path)
    if stat.S_ISDIR(mode):
        info.type = tarfile.DIRTYPE
        return [info, _opaque_marker(name, st)] if is_opaque(path) else [info]
    if stat.S_ISREG(mode):
        _regular(info, st, links)
    elif stat.S_ISLNK(mode):
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        info.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(mode):
        info.type = tarfile.FIFOTYPE
    return [info]


def _regular(info: tarfile.TarInfo, st: os.stat_result, links: dict[tuple[int, int], str]) -> None:
    key = (st.st_dev, st.st_ino)
    if st.st_nlink > 1 and key in links:
        info.type, info.linkname = tarfile.LNKTYPE, links[key]
        return
    if st.st_nlink > 1:
        links[key] = info.name
    info.type, info.size = tarfile.REGTYPE, st.st_size


def _opaque_marker(name: str, st: os.stat_result) -> tarfile.TarInfo:
    marker = _base(f"{name}/{WHITEOUT_OPAQUE}", st)
    marker.type = tarfile.REGTYPE
    return marker


def _xattrs(path: Path) -> dict[str, str]:
    """The entry's xattrs as PAX records (overlayfs' own left out)."""
    out: dict[str, str] = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return out
    for name in sorted(names):
        if name.startswith(_SKIPPED_XATTRS):
            continue
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        out[_PAX_XATTR + name] = value.decode("utf-8", "surrogateescape")
    return out
