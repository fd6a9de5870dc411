"""Content-addressed blob store: every blob is named by the sha256 of its bytes.

Layout under the store root (``<data-root>/content``)::

    blobs/sha256/<hex>    committed blobs; the name is always the digest of the content
    ingest/<random>       writes in flight; removed on failure and swept by `recover()`

A write goes to a temp file under ``ingest/``, is hashed as it streams, checked against the
expected digest and size, fsynced, then renamed into ``blobs/``: a crash never leaves a blob under
a wrong name. The interfaces are split the containerd way so a consumer takes only what it needs:
`Provider` (read), `Ingester` (write), `Manager` (list, delete).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from dockwright.errors import InvalidParameter, NotFound
from dockwright.store.pump import consume_in_thread

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Descriptor:
    """A committed blob: its digest ("sha256:<hex>") and size in bytes."""

    digest: str
    size: int


def digest_of(data: bytes) -> str:
    """The digest ("sha256:<hex>") that names `data` in the store."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    """Return `digest` if it is a well-formed sha256 digest; InvalidParameter otherwise."""
    if not _DIGEST.match(digest):
        raise InvalidParameter(f"invalid digest {digest!r}")
    return digest


class Provider(Protocol):
    """Read access to committed blobs."""

    def has(self, digest: str) -> bool: ...

    def size(self, digest: str) -> int:
        """Size in bytes; NotFound when absent."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """A readable file; the caller closes it. NotFound when absent."""
        ...

    def read(self, digest: str) -> bytes: ...


class Ingester(Protocol):
    """Write access: blobs are verified against `expected` (digest) and `size` before commit."""

    def ingest(self, data: bytes, expected: str | None = None) -> Descriptor: ...

    def ingest_stream(
        self, chunks: Iterable[bytes], expected: str | None = None, size: int | None = None
    ) -> Descriptor: ...


class Manager(Protocol):
    """Enumeration and removal of committed blobs."""

    def list(self) -> list[Descriptor]: ...

    def delete(self, digest: str) -> None:
        """Remove a blob; NotFound when absent."""
        ...


class ContentStore:
    """The filesystem implementation of Provider, Ingester and Manager."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._blobs = root / "blobs" / "sha256"
        self._ingest = root / "ingest"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._ingest.mkdir(parents=True, exist_ok=True)

    def path_for(self, digest: str) -> Path:
        """Where a blob lives (pure); see the layout in the module docstring."""
        return self._blobs / check_digest(digest).removeprefix("sha256:")

    # -- Provider --------------------------------------------------------------------------

    def has(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    def size(self, digest: str) -> int:
        try:
            return self.path_for(digest).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no such blob: {digest}") from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return self.path_for(digest).open("rb")
        except FileNotFoundError:
            raise NotFound(f"no such blob: {digest}") from None

    def read(self, digest: str) -> bytes:
        with self.open(digest) as f:
            return f.read()

    # -- Ingester --------------------------------------------------------------------------

    def ingest(self, data: bytes, expected: str | None = None) -> Descriptor:
        return self.ingest_stream([data], expected)

    def ingest_stream(
        self, chunks: Iterable[bytes], expected: str | None = None, size: int | None = None
    ) -> Descriptor:
        """Write `chunks` to a temp file, verify, fsync and rename into place."""
        if expected is not None:
            check_digest(expected)
        tmp = self._ingest / secrets.token_hex(16)
        try:
            desc = write_hashed(tmp, chunks)
            _verify(desc, expected, size)
            os.rename(tmp, self.path_for(desc.digest))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self._blobs)
        return desc

    async def ingest_async(
        self, chunks: AsyncIterable[bytes], expected: str | None = None, size: int | None = None
    ) -> Descriptor:
        """`ingest_stream` for an async source, run in a worker thread (bounded buffering)."""
        return await consume_in_thread(chunks, lambda it: self.ingest_stream(it, expected, size))

    # -- Manager ---------------------------------------------------------------------------

    def list(self) -> list[Descriptor]:
        out = []
        for entry in sorted(os.scandir(self._blobs), key=lambda e: e.name):
            digest = "sha256:" + entry.name
            if _DIGEST.match(digest) and entry.is_file():
                out.append(Descriptor(digest, entry.stat().st_size))
        return out

    def delete(self, digest: str) -> None:
        try:
            self.path_for(digest).unlink()
        except FileNotFoundError:
            raise NotFound(f"no such blob: {digest}") from None

    def recover(self) -> None:
        """Drop writes that a crash left in flight (call at daemon start, before any ingest)."""
        shutil.rmtree(self._ingest, ignore_errors=True)
        self._ingest.mkdir(parents=True, exist_ok=True)


def write_hashed(path: Path, chunks: Iterable[bytes], *, sync: bool = True) -> Descriptor:
    """Write every chunk to a new file at `path` (fsynced unless `sync` is False: a spool, not
    a blob) and return what was written."""
    h = hashlib.sha256()
    size = 0
    with path.open("xb") as f:
        for chunk in chunks:
            h.update(chunk)
            size += len(chunk)
            f.write(chunk)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    return Descriptor("sha256:" + h.hexdigest(), size)


def _verify(desc: Descriptor, expected: str | None, size: int | None) -> None:
    if size is not None and desc.size != size:
        raise InvalidParameter(
            f"size mismatch for blob {expected or desc.digest}: expected {size}, got {desc.size}"
        )
    if expected is not None and desc.digest != expected:
        raise InvalidParameter(f"digest mismatch for blob {expected}: got {desc.digest}")


def _fsync_dir(path: Path) -> None:
    """Make the rename durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "ContentStore",
    "Descriptor",
    "Ingester",
    "Manager",
    "Provider",
    "check_digest",
    "digest_of",
]
