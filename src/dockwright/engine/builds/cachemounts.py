"""Persistent `RUN --mount=type=cache` directories, and their export/import for CI runners.

Layout under the daemon's data root (documented with `cache_dir`, the one path function):

    <data-root>/build-mounts/
        cache/<sha256(id)>/id       the cache id, as written in the Dockerfile (mtime: last use)
        cache/<sha256(id)>/target   the target it was first mounted at (mtime: creation)
        cache/<sha256(id)>/uses     how many steps have mounted it
        cache/<sha256(id)>/data/    what RUN containers see at the mount's target
        tmp/                        private copies, secret tmpfs mounts, export/import spools

(Not under <data-root>/builder: the build service empties that directory at every start.)

Sharing, as BuildKit: `shared` mounts the same directory into every concurrent step, `locked`
makes a step wait until no other step holds the cache, `private` gives a step a fresh directory
(discarded afterwards) when another step already uses the cache.

Export format: a tar whose top-level entries are `<sha256(id)>/id` and `<sha256(id)>/data/…`
for each cache; import checks each `id` against its directory name and replaces that cache whole.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dockwright.builder.mounts import RunMount
from dockwright.errors import InvalidParameter, NotFound
from dockwright.kernel.mount import unmount

CHUNK = 1 << 16
CACHE_MOUNTS_DIR = "build-mounts"  # under the daemon's data root


@dataclass(frozen=True)
class CacheMountInfo:
    id: str
    size: int  # bytes allocated on disk (hard links counted once)
    last_used: float  # unix time
    target: str = ""  # "" for a cache imported from an export (which carries only the id)
    created: float = 0.0
    usage_count: int = 0


def cache_key(cache_id: str) -> str:
    return hashlib.sha256(cache_id.encode()).hexdigest()


def disk_usage(path: Path) -> int:
    """Bytes allocated under `path` (st_blocks, each inode once), as du counts."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [*dirnames, *filenames, ""]:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


class CacheMounts:
    """The cache-mount directories of one daemon; safe to share between concurrent builds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        for d in (root / "cache", self.tmp):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        for leftover in self.tmp.iterdir():  # what a crashed daemon left (secret tmpfs too)
            unmount(leftover)
            shutil.rmtree(leftover, ignore_errors=True)
        self._users: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def cache_dir(self, cache_id: str) -> Path:
        """`cache/<sha256(id)>`: the id hashed, so any id (`/root/.cache`) is one path segment."""
        return self.root / "cache" / cache_key(cache_id)

    @asynccontextmanager
    async def use(self, m: RunMount) -> AsyncIterator[Path]:
        """The host directory to mount for cache mount `m`, held for the step."""
        lock = self._locks.setdefault(m.id, asyncio.Lock())
        if m.sharing == "locked":
            await lock.acquire()
        try:
            if m.sharing == "private" and self._users.get(m.id):
                async with self._private(m) as path:
                    yield path
                return
            self._users[m.id] = self._users.get(m.id, 0) + 1
            try:
                yield await asyncio.to_thread(self._prepare, m)
            finally:
                self._users[m.id] -= 1
        finally:
            if m.sharing == "locked":
                lock.release()

    @asynccontextmanager
    async def _private(self, m: RunMount) -> AsyncIterator[Path]:
        path = Path(tempfile.mkdtemp(prefix="private-", dir=self.tmp))
        try:
            _apply_owner(path, m)
            yield path
        finally:
            await asyncio.to_thread(shutil.rmtree, path, True)

    def _prepare(self, m: RunMount) -> Path:
        """Blocking: create the cache on first use (owner and mode from the mount), mark use."""
        d = self.cache_dir(m.id)
        data = d / "data"
        if not data.is_dir():
            d.mkdir(mode=0o700, exist_ok=True)
            (d / "id").write_text(m.id)
            (d / "target").write_text(m.target)
            data.mkdir(mode=0o755, exist_ok=True)
        _apply_owner(data, m)
        (d / "uses").write_text(str(_read_int(d / "uses") + 1))
        os.utime(d / "id")
        return data

    def remove_idle(self, sizes: dict[str, int]) -> tuple[list[str], int]:
        """Blocking: delete the cache mounts named in `sizes` (id -> bytes) that no step holds
        now; (ids removed, bytes reclaimed). One that a build took meanwhile stays."""
        removed, reclaimed = [], 0
        for cache_id, size in sizes.items():
            if self.in_use(cache_id):
                continue
            shutil.rmtree(self.cache_dir(cache_id), ignore_errors=True)
            removed.append(cache_id)
            reclaimed += size
        return removed, reclaimed

    def in_use(self, cache_id: str) -> bool:
        lock = self._locks.get(cache_id)
        return bool(self._users.get(cache_id)) or (lock is not None and lock.locked())

    def entries(self) -> list[CacheMountInfo]:
        """Blocking: every cache with its size and last use."""
        found = []
        for d in sorted((self.root / "cache").iterdir()):
            try:
                cache_id = (d / "id").read_text()
                last = (d / "id").stat().st_mtime
            except OSError:
                continue
            target, created = _first_use(d / "target", last)
            found.append(CacheMountInfo(cache_id, disk_usage(d / "data"), last, target, created,
                                        _read_int(d / "uses")))  # fmt: skip
        return found

    def prune(self) -> tuple[list[str], int]:
        """Blocking: remove every cache no step is using; (ids removed, bytes reclaimed)."""
        removed, reclaimed = [], 0
        for info in self.entries():
            if self.in_use(info.id):
                continue
            shutil.rmtree(self.cache_dir(info.id))
            removed.append(info.id)
            reclaimed += info.size
        return removed, reclaimed

    async def export_tar(self, ids: list[str]) -> AsyncIterator[bytes]:
        """The caches `ids` (all when empty) as a tar stream; NotFound names an unknown id."""
        chosen = ids or [info.id for info in await asyncio.to_thread(self.entries)]
        for cache_id in chosen:
            if not (self.cache_dir(cache_id) / "data").is_dir():
                raise NotFound(f"no such cache mount: {cache_id}")
        fd, name = tempfile.mkstemp(prefix="export-", suffix=".tar", dir=self.tmp)
        try:
            with os.fdopen(fd, "w+b") as spool:
                await asyncio.to_thread(self._write_tar, chosen, spool)
                spool.seek(0)
                while chunk := await asyncio.to_thread(spool.read, CHUNK):
                    yield chunk
        finally:
            os.unlink(name)

    def _write_tar(self, ids: list[str], out: BinaryIO) -> None:
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for cache_id in ids:
                d = self.cache_dir(cache_id)
                tf.add(d / "id", arcname=f"{d.name}/id")
                tf.add(d / "data", arcname=f"{d.name}/data", recursive=True)

    async def import_tar(self, chunks: AsyncIterable[bytes]) -> list[str]:
        """Replace the caches found in the tar stream `chunks`; returns their ids."""
        staging = Path(tempfile.mkdtemp(prefix="import-", dir=self.tmp))
        try:
            with (staging / "spool.tar").open("w+b") as spool:
                async for chunk in chunks:
                    await asyncio.to_thread(spool.write, chunk)
                spool.seek(0)
                root = staging / "root"
                await asyncio.to_thread(_extract, spool, root)
            return await asyncio.to_thread(self._adopt, root)
        finally:
            await asyncio.to_thread(shutil.rmtree, staging, True)

    def _adopt(self, root: Path) -> list[str]:
        """Blocking: check every extracted cache, then move each into place (the old one goes)."""
        found = [(d, _imported_id(d)) for d in sorted(root.iterdir())]
        for _d, cache_id in found:
            if self.in_use(cache_id):
                raise InvalidParameter(f"cache mount {cache_id} is in use by a running build")
        for d, cache_id in found:
            target = self.cache_dir(cache_id)
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix="old-", dir=self.tmp))
                target.rename(old / "cache")
                shutil.rmtree(old)
            d.chmod(0o700)
            d.rename(target)
            os.utime(target / "id")
        return [cache_id for _d, cache_id in found]


def _apply_owner(path: Path, m: RunMount) -> None:
    """uid/gid/mode of a cache mount apply to its top directory (BuildKit's defaults 0:0 0755)."""
    if m.uid is not None or m.gid is not None:
        os.chown(path, m.uid if m.uid is not None else -1, m.gid if m.gid is not None else -1)
    if m.mode is not None:
        path.chmod(m.mode)


def _extract(spool: BinaryIO, root: Path) -> None:
    """Blocking: unpack an export, refusing paths and links that leave `root` or devices."""
    root.mkdir(mode=0o700)
    try:
        with tarfile.open(fileobj=spool, mode="r:*") as tf:
            tf.extractall(root, numeric_owner=True, filter=_member_filter)
    except tarfile.ReadError:
        raise InvalidParameter("invalid cache mount archive: not a tar archive") from None
    except (tarfile.TarError, OSError) as exc:
        raise InvalidParameter(f"invalid cache mount archive: {str(exc).lower()}") from None


def _member_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """tarfile's "tar" filter (no absolute paths, no escaping links, no setuid bits), and no
    device files; ownership is kept (caches made with uid=/gid= must keep theirs)."""
    if member.isdev():
        raise InvalidParameter(f"invalid cache mount archive: device file {member.name}")
    return tarfile.tar_filter(member, dest)


def _imported_id(d: Path) -> str:
    """The id of an extracted cache directory, checked against the directory's name."""
    try:
        cache_id = (d / "id").read_text()
    except OSError:
        raise InvalidParameter(f"invalid cache mount archive: {d.name}/id is missing") from None
    if cache_key(cache_id) != d.name or not (d / "data").is_dir():
        raise InvalidParameter(f"invalid cache mount archive: {d.name} does not match its id")
    return cache_id


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (OSError, ValueError):
        return 0


def _first_use(path: Path, last_used: float) -> tuple[str, float]:
    """(target, creation time) of a cache; an imported one has neither: ("", last use)."""
    try:
        return path.read_text(), path.stat().st_mtime
    except OSError:
        return "", last_used
