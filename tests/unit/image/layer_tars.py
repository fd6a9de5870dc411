"""Build layer tarballs entry by entry for the image tests."""

from __future__ import annotations

import gzip
import io
import tarfile

MTIME = 1_700_000_000


def entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", mode: int = 0o644,
          uid: int = 0, gid: int = 0, linkname: str = "", mtime: int = MTIME,
          xattrs: dict[str, bytes] | None = None, major: int = 0, minor: int = 0):  # fmt: skip
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.mtime = mtime
    info.linkname = linkname
    info.devmajor, info.devminor = major, minor
    if xattrs:
        info.pax_headers = {
            f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape") for k, v in xattrs.items()
        }
    if kind == tarfile.REGTYPE:
        info.size = len(data)
    return info, data


def file(name: str, data: bytes = b"", **kw):
    return entry(name, tarfile.REGTYPE, data, **kw)


def directory(name: str, mode: int = 0o755, **kw):
    return entry(name, tarfile.DIRTYPE, mode=mode, **kw)


def symlink(name: str, target: str, **kw):
    return entry(name, tarfile.SYMTYPE, linkname=target, mode=0o777, **kw)


def hardlink(name: str, target: str, **kw):
    return entry(name, tarfile.LNKTYPE, linkname=target, **kw)


def tar_bytes(*entries, gz: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for info, data in entries:
            tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if gz else raw


def chunks(data: bytes, size: int = 7000):
    """The bytes in small pieces, as a network upload would arrive."""
    return [data[i : i + size] for i in range(0, len(data), size)]
