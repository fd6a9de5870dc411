"""Pure translation of tar headers into filesystem operations for an overlayfs layer directory.

This is where OCI layer semantics meet overlayfs (the extractor in `extract.py` only executes):

- ``dir/.wh.<name>``  (OCI whiteout)        → `Whiteout`: a 0:0 character device at dir/<name>
- ``dir/.wh..wh..opq`` (OCI opaque marker)   → `Opaque`: xattr trusted.overlay.opaque=y on dir
- other ``.wh..wh.*`` names (aufs metadata)  → `Skip`
- paths are made relative (absolute names are re-rooted, like Docker) and ``..`` that would
  climb out of the layer is rejected; hardlink targets get the same treatment.
- ``trusted.overlay.*`` xattrs carried in a tar are dropped: they would steer overlayfs itself
  (redirects, metacopy) and are never legitimate layer content.
"""

from __future__ import annotations

import stat
import tarfile
from dataclasses import dataclass

from dockwright.errors import InvalidParameter

WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_OVERLAY_XATTRS = "trusted.overlay."
_PAX_XATTR = "SCHILY.xattr."

Parts = tuple[str, ...]


@dataclass(frozen=True)
class Meta:
    """Ownership, permission bits (07777), mtime and xattrs of one entry."""

    mode: int
    uid: int
    gid: int
    mtime: float
    xattrs: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Dir:
    parts: Parts
    meta: Meta


@dataclass(frozen=True)
class File:
    parts: Parts
    meta: Meta
    size: int


@dataclass(frozen=True)
class Symlink:
    parts: Parts
    meta: Meta
    target: str


@dataclass(frozen=True)
class Hardlink:
    parts: Parts
    target: Parts


@dataclass(frozen=True)
class Device:
    """A character or block device or a FIFO (`kind` is the S_IFMT bits)."""

    parts: Parts
    meta: Meta
    kind: int
    major: int = 0
    minor: int = 0


@dataclass(frozen=True)
class Whiteout:
    parts: Parts
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Opaque:
    parts: Parts


@dataclass(frozen=True)
class Skip:
    name: str
    reason: str


Op = Dir | File | Symlink | Hardlink | Device | Whiteout | Opaque | Skip


def clean_path(name: str) -> Parts:
    """The components of a tar name inside the layer; InvalidParameter if it climbs out."""
    out: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not out:
                raise InvalidParameter(f"invalid tar entry {name!r}: path escapes the layer")
            out.pop()
        else:
            out.append(part)
    return tuple(out)


def xattrs_of(info: tarfile.TarInfo) -> tuple[tuple[str, bytes], ...]:
    """The extended attributes a PAX header carries, minus overlayfs' own."""
    out = []
    for key, value in sorted(info.pax_headers.items()):
        if not key.startswith(_PAX_XATTR):
            continue
        name = key[len(_PAX_XATTR) :]
        if name and not name.startswith(_OVERLAY_XATTRS):
            out.append((name, value.encode("utf-8", "surrogateescape")))
    return tuple(out)


def meta_of(info: tarfile.TarInfo) -> Meta:
    return Meta(info.mode & 0o7777, info.uid, info.gid, info.mtime, xattrs_of(info))


def _whiteout_op(info: tarfile.TarInfo, parts: Parts) -> Op | None:
    """The whiteout meaning of an entry's name, or None for an ordinary entry."""
    base = parts[-1]
    if any(p.startswith(WHITEOUT_META_PREFIX) for p in parts[:-1]):
        return Skip(info.name, "inside whiteout metadata directory")
    if base == WHITEOUT_OPAQUE:
        return Opaque(parts[:-1])
    if base.startswith(WHITEOUT_META_PREFIX):
        return Skip(info.name, "whiteout metadata")
    if base.startswith(WHITEOUT_PREFIX):
        hidden = base[len(WHITEOUT_PREFIX) :]
        if hidden in ("", ".", ".."):
            return Skip(info.name, "whiteout without a name")
        return Whiteout((*parts[:-1], hidden), info.uid, info.gid)
    return None


def _typed_op(info: tarfile.TarInfo, parts: Parts) -> Op:
    """The operation for an ordinary (non-whiteout) entry, by tar type."""
    if info.isdir():
        return Dir(parts, meta_of(info))
    if not parts:
        return Skip(info.name, "only a directory can be the layer root")
    if info.isreg():
        return File(parts, meta_of(info), info.size)
    if info.issym():
        return Symlink(parts, meta_of(info), info.linkname)
    if info.islnk():
        return Hardlink(parts, clean_path(info.linkname))
    if info.ischr() or info.isblk():
        kind = stat.S_IFCHR if info.ischr() else stat.S_IFBLK
        return Device(parts, meta_of(info), kind, info.devmajor, info.devminor)
    if info.isfifo():
        return Device(parts, meta_of(info), stat.S_IFIFO)
    return Skip(info.name, f"unsupported tar entry type {info.type!r}")


def plan_member(info: tarfile.TarInfo) -> Op:
    """What applying one tar header to a layer directory means (pure)."""
    parts = clean_path(info.name)
    if parts:
        op = _whiteout_op(info, parts)
        if op is not None:
            return op
    return _typed_op(info, parts)
