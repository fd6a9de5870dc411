"""The global blob store: each blob stored once, digest-verified, fsynced, renamed into place.

`commit(src, digest)` is the only way in: it hashes the source file (unless the caller already
hashed it while receiving), compares, fsyncs the file, renames it to `blobs/<alg>/<hex>` and
fsyncs the directory. A blob that already exists is kept and the source dropped, so concurrent
pushes of one layer are harmless. Readers never see a file that is still being written.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dockwright.registry.errors import RegistryError
from dockwright.registry.layout import Layout
from dockwright.registry.names import split_digest

HASH_CHUNK = 1 << 20


def hash_file(path: Path, alg: str) -> str:
    """The digest "<alg>:<hex>" of a file's bytes."""
    h = hashlib.new(alg)
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
    return f"{alg}:{h.hexdigest()}"


def fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Blobs by digest under `layout.blobs`; see `dockwright.registry.layout` for the tree."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def path(self, digest: str) -> Path:
        return self.layout.blob(digest)

    def size(self, digest: str) -> int | None:
        """Size in bytes, or None when the blob is absent."""
        try:
            return self.layout.blob(digest).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, digest: str) -> bytes:
        try:
            return self.layout.blob(digest).read_bytes()
        except FileNotFoundError:
            raise RegistryError(
                "BLOB_UNKNOWN", f"blob unknown: {digest}", {"digest": digest}
            ) from None

    def commit(self, src: Path, digest: str, computed: str | None = None) -> int:
        """Verify `src` against `digest`, then make it the blob; returns its size.

        `computed` is a digest the caller already took of `src` (same algorithm) or None.
        Blocking (hashing, fsync): call it from a worker thread for large blobs. On a
        mismatch `src` is left for the caller to remove and DIGEST_INVALID is raised.
        """
        alg, _ = split_digest(digest)
        actual = computed if computed and computed.startswith(alg + ":") else hash_file(src, alg)
        if actual != digest:
            raise RegistryError(
                "DIGEST_INVALID",
                f"digest mismatch: expected {digest}, got {actual}",
                {"expected": digest, "actual": actual},
            )
        size = src.stat().st_size
        dest = self.layout.blob(digest)
        if dest.exists():
            os.utime(dest)  # fresh again: a running garbage collection keeps it
            src.unlink(missing_ok=True)
            return size
        fsync_path(src)
        os.utime(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(src, dest)
        fsync_path(dest.parent, directory=True)
        return size

    def put_bytes(self, data: bytes, digest: str) -> None:
        """Store a small blob (a manifest) held in memory; the digest was already checked."""
        dest = self.layout.blob(digest)
        if dest.exists():
            os.utime(dest)
            return
        tmp = self.layout.tmp / f"blob-{os.getpid()}-{os.urandom(8).hex()}"
        try:
            with tmp.open("xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.rename(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        fsync_path(dest.parent, directory=True)

    def delete(self, digest: str) -> None:
        self.layout.blob(digest).unlink(missing_ok=True)

    def all(self) -> list[str]:
        """Every stored blob's digest (for garbage collection)."""
        out = []
        for alg_dir in sorted(self.layout.blobs.glob("*")):
            out += [f"{alg_dir.name}:{p.name}" for p in sorted(alg_dir.iterdir())]
        return out


__all__ = ["BlobStore", "fsync_path", "hash_file"]
