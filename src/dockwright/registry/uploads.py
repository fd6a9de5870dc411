"""Upload sessions: POST starts one, PATCH appends in order, PUT commits it as a blob.

A session is a directory `uploads/<uuid>/` holding the bytes received so far (`data`) and the
repository it belongs to (`repo`); its offset is simply the size of `data`, so a session
survives a server restart. While the server runs, a sha256 of the bytes so far is kept in memory
so a commit does not re-read the file; after a restart (or for sha512) the file is hashed again.
Appends to one session are serialized by a per-session lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
import uuid as uuidlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from dockwright.registry.blobs import BlobStore
from dockwright.registry.errors import RegistryError
from dockwright.registry.layout import Layout

_UUID = re.compile(r"^[0-9a-f]{32}$")


def unknown(uuid: str) -> RegistryError:
    return RegistryError("BLOB_UPLOAD_UNKNOWN", f"blob upload unknown: {uuid}", {"uuid": uuid})


class UploadStore:
    """Sessions under `layout.uploads`; commits go through `blobs.commit`."""

    def __init__(self, layout: Layout, blobs: BlobStore) -> None:
        self.layout = layout
        self.blobs = blobs
        self._locks: dict[str, asyncio.Lock] = {}
        self._hashers: dict[str, tuple[Any, int]] = {}  # uuid -> (sha256 so far, offset)

    def create(self, name: str) -> str:
        """Start a session for repository `name`; returns its id."""
        uuid = uuidlib.uuid4().hex
        path = self.layout.upload(uuid)
        path.mkdir(parents=True)
        (path / "repo").write_text(name)
        (path / "data").touch()
        self._hashers[uuid] = (hashlib.sha256(), 0)
        return uuid

    def _data(self, name: str, uuid: str) -> Path:
        """The session's data file; BLOB_UPLOAD_UNKNOWN unless it exists and belongs to `name`."""
        if not _UUID.match(uuid):
            raise unknown(uuid)
        path = self.layout.upload(uuid)
        try:
            owner = (path / "repo").read_text()
        except FileNotFoundError:
            raise unknown(uuid) from None
        if owner != name:
            raise unknown(uuid)
        return path / "data"

    def offset(self, name: str, uuid: str) -> int:
        """Bytes received so far."""
        return self._data(name, uuid).stat().st_size

    async def append(
        self, name: str, uuid: str, chunks: AsyncIterator[bytes], start: int | None = None
    ) -> int:
        """Append a chunk that must begin at `start` (when given); returns the new offset.

        An out-of-order chunk is rejected with 416 before any of it is read.
        """
        data = self._data(name, uuid)
        async with self._locks.setdefault(uuid, asyncio.Lock()):
            return await self._append_locked(uuid, data, chunks, start)

    async def _append_locked(
        self, uuid: str, data: Path, chunks: AsyncIterator[bytes], start: int | None
    ) -> int:
        offset = data.stat().st_size
        if start is not None and start != offset:
            raise RegistryError(
                "BLOB_UPLOAD_INVALID",
                f"chunk starts at {start}, upload {uuid} is at {offset}",
                {"offset": offset},
                status=416,
            )
        return await self._write(uuid, data, offset, chunks)

    async def _write(self, uuid: str, data: Path, offset: int, chunks: AsyncIterator[bytes]) -> int:
        hasher, hashed = self._hashers.get(uuid, (None, -1))
        if hashed != offset:
            hasher = None
        with data.open("ab") as f:
            try:
                async for chunk in chunks:
                    f.write(chunk)
                    offset += len(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
            finally:
                if hasher is not None:
                    self._hashers[uuid] = (hasher, offset)
                else:
                    self._hashers.pop(uuid, None)
        return offset

    async def finish(
        self, name: str, uuid: str, digest: str, chunks: AsyncIterator[bytes], start: int | None
    ) -> int:
        """Append the last chunk, verify and commit the blob, end the session; returns size.

        A digest mismatch ends the session too (DIGEST_INVALID); the bytes are dropped.
        """
        data = self._data(name, uuid)
        async with self._locks.setdefault(uuid, asyncio.Lock()):  # no append during the commit
            size = await self._append_locked(uuid, data, chunks, start)
            hasher, hashed = self._hashers.pop(uuid, (None, -1))
            computed = "sha256:" + hasher.hexdigest() if hasher and hashed == size else None
            try:
                return await asyncio.to_thread(self.blobs.commit, data, digest, computed)
            finally:
                self._drop(uuid)

    def cancel(self, name: str, uuid: str) -> None:
        self._data(name, uuid)
        self._drop(uuid)

    def _drop(self, uuid: str) -> None:
        shutil.rmtree(self.layout.upload(uuid), ignore_errors=True)
        self._locks.pop(uuid, None)
        self._hashers.pop(uuid, None)


__all__ = ["UploadStore"]
