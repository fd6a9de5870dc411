"""Recognise a layer's compression by its magic bytes and wrap the stream to decompress it.

Docker accepts plain, gzip, bzip2, xz and zstd tarballs for import and layers (zstd through the
optional `zstandard` package; without it zstd is refused with a clear error). Every read error of the wrapped stream surfaces as InvalidParameter naming the
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

    def __init__(self, inner: Reader, kind: str, errors: tuple[type[Exception], ...] = ()) -> None:
        self._inner = inner
        self._kind = kind
        self._errors: tuple[type[Exception], ...] = (
            EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile, *errors,
        )  # fmt: skip

    def read(self, n: int = -1, /) -> bytes:
        try:
            return self._inner.read(n)
        except self._errors as exc:
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
    return _zstd(raw)


def _zstd(raw: Reader) -> Reader:
    try:
        import zstandard
    except ImportError:
        raise InvalidParameter(
            "unsupported compression format zstd: the zstandard package is not installed"
        ) from None
    return _Guarded(_ZstdReader(raw, zstandard), "zstd", (zstandard.ZstdError,))


class _ZstdReader:
    """Frames of zstd one after the other; a stream that ends inside a frame is an error."""

    def __init__(self, raw: Reader, zstandard: Any) -> None:
        self._raw = raw
        self._zstd = zstandard
        self._obj = zstandard.ZstdDecompressor().decompressobj()
        self._buf = b""
        self._in_frame = False

    def read(self, n: int = -1, /) -> bytes:
        while not self._buf:
            chunk = self._raw.read(1 << 16)
            if not chunk:
                if self._in_frame:
                    raise EOFError("stream ends inside a zstd frame")
                return b""
            self._feed(chunk)
        if n is None or n < 0:
            n = len(self._buf)
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _feed(self, chunk: bytes) -> None:
        while chunk:
            self._in_frame = True
            self._buf += self._obj.decompress(chunk)
            if not self._obj.eof:
                return
            self._in_frame = False
            chunk = self._obj.unused_data
            self._obj = self._zstd.ZstdDecompressor().decompressobj()
