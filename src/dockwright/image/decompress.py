"""Recognise a layer's compression by its magic bytes and wrap the stream to decompress it.

Docker accepts plain, gzip, bzip2 and xz tarballs for import and layers (zstd needs a library we
do not ship). Every read error of the wrapped stream surfaces as InvalidParameter naming the
format, so a truncated or corrupt upload is a 400, not a 500.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from typing import Any, Protocol

from dockwright.errors import InvalidParameter

_MAGIC = (
    (b"\x1f\x8b\x08", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


class Reader(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class PeekReader(Reader, Protocol):
    def peek(self, n: int, /) -> bytes: ...


def detect(head: bytes) -> str:
    """'gzip' | 'bzip2' | 'xz' | 'zstd' | 'plain' for the first bytes of a stream (pure)."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return "plain"


class _Guarded:
    """Turns decoder failures into InvalidParameter; I/O errors of the source pass through."""

    def __init__(self, inner: Reader, kind: str) -> None:
        self._inner = inner
        self._kind = kind

    def read(self, n: int = -1, /) -> bytes:
        try:
            return self._inner.read(n)
        except (EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile) as exc:
            raise InvalidParameter(f"invalid {self._kind} stream: {exc}") from None
        except OSError as exc:
            if isinstance(exc, ConnectionError) or exc.errno is not None:
                raise
            raise InvalidParameter(f"invalid {self._kind} stream: {exc}") from None  # bz2


def decompressed(source: PeekReader) -> Reader:
    """A reader of the uncompressed bytes of `source` (which must support `peek`)."""
    kind = detect(source.peek(6))
    if kind == "plain":
        return source
    raw: Any = source  # the stdlib stubs want a real file; `read` is all they use
    if kind == "gzip":
        return _Guarded(gzip.GzipFile(fileobj=raw, mode="rb"), kind)
    if kind == "bzip2":
        return _Guarded(bz2.BZ2File(raw, mode="rb"), kind)
    if kind == "xz":
        return _Guarded(lzma.LZMAFile(raw, mode="rb"), kind)
    raise InvalidParameter("unsupported compression format zstd")
