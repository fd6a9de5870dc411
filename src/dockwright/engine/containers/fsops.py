"""A container's files from the daemon: `docker diff`, `docker export`, `docker cp` both ways.

Which view: a running (or paused) container is reached through /proc/<pid>/root, so its bind
mounts and tmpfs are seen exactly as its processes see them; a stopped one through its rootfs,
mounted for the operation under the container's lock and unmounted afterwards (only the image
layers and the writable layer then: mounts exist only while it runs). `export` always reads the
rootfs alone.

How: every path is walked with directory descriptors inside that root (`safefs.Confined`), so
symlinks resolve as in a chroot and nothing — a hostile tar, or a container swapping a
directory for a symlink while we read — leads the daemon to host files.
"""

from __future__ import annotations

import asyncio
import os
import stat
import tarfile
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dockwright.engine.containers import archive as ar
from dockwright.engine.containers.plan import all_mounts
from dockwright.engine.containers.tarwalk import tar_tree, thread_chunks
from dockwright.errors import Forbidden, InvalidParameter, NotFound
from dockwright.image import tarplan as tp
from dockwright.image.decompress import decompressed
from dockwright.image.extract import _Applier
from dockwright.image.fstree import changes as overlay_changes
from dockwright.image.safefs import Confined
from dockwright.kernel.paths import resolve_in_root
from dockwright.runtime.users import resolve_user
from dockwright.store.pump import ChunkReader, consume_in_thread
from dockwright.types.container import Container

if TYPE_CHECKING:
    from dockwright.engine.containers.base import ContainerBase

__all__ = ["ContainerFS", "archive", "changes", "export", "extract", "open_fs", "stat_path"]


class ContainerFS:
    """An open view of one container's files at `root_path` (closed by `open_fs`)."""

    def __init__(self, c: Container, root_path: str, root: Confined) -> None:
        self.container = c
        self.root_path = root_path
        self.root = root
        self.ref = c.name

    def close(self) -> None:
        self.root.close()

    def not_found(self, path: str) -> NotFound:
        return NotFound(f"Could not find the file {path} in container {self.ref}")

    def canonical(self, parts: tuple[str, ...]) -> tuple[str, ...]:
        """`parts` with every symlink resolved inside the root (the last need not exist)."""
        host = resolve_in_root(Path(self.root_path), "/" + "/".join(parts))
        return host.relative_to(self.root_path).parts

    def locate(self, src: ar.SourcePath, shown: str) -> tuple[int, str | None]:
        """(O_PATH descriptor of the parent directory, final name); name None for the root."""
        parts = self.canonical(src.parts) if src.follow else src.parts
        if not parts:
            return os.dup(self.root.fd), None
        try:
            return self.root.open_dir(parts[:-1]), parts[-1]
        except (FileNotFoundError, InvalidParameter):
            raise self.not_found(shown) from None

    def stat(self, path: str) -> ar.PathStat:
        """Docker's path stat of `path` (a final symlink is reported, with its resolved target)."""
        src = ar.source_path(path)
        pfd, name = self.locate(src, path)
        try:
            st = _lstat(pfd, name)
        except FileNotFoundError:
            raise self.not_found(path) from None
        finally:
            os.close(pfd)
        link = ""
        if stat.S_ISLNK(st.st_mode):
            link = "/" + "/".join(self.canonical(src.parts))
        return ar.path_stat(src.name, st.st_mode, st.st_size, st.st_mtime, link)

    def tar(self, path: str) -> Iterator[bytes]:
        """The archive of `path`: entries named after its base name (blocking generator)."""
        src = ar.source_path(path)
        pfd, name = self.locate(src, path)
        entry = "/" if src.name == "/" else src.name
        return tar_tree(pfd, name, entry, ar.child_prefix(entry), own_fd=True)

    def tar_all(self) -> Iterator[bytes]:
        """The whole filesystem, entries relative to its root ("bin/", "bin/sh", ...)."""
        return tar_tree(os.dup(self.root.fd), None, None, "", own_fd=True)

    def destination(self, path: str) -> tuple[str, ...]:
        """The resolved directory `path` to extract into; 404 if missing, 400 if no directory."""
        if not path:
            raise InvalidParameter("bad parameter: path cannot be empty")
        parts = self.canonical(tuple(p for p in path.split("/") if p))
        try:
            fd = self.root.open_dir(parts)
        except FileNotFoundError:
            raise self.not_found(path) from None
        except InvalidParameter:
            raise InvalidParameter("extraction point is not a directory") from None
        os.close(fd)
        return parts

    def extract(
        self,
        dest: tuple[str, ...],
        chunks: Iterator[bytes],
        no_overwrite: bool,
        owner: tuple[int, int] | None,
    ) -> None:
        """Unpack a (possibly compressed) tar stream into directory `dest` (blocking)."""
        reader = decompressed(ChunkReader(chunks))
        applier = _Applier(self.root, chown=True)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tf:  # type: ignore[call-overload]
                for info in tf:
                    op = ar.plan_copy_member(info, dest, owner)
                    if no_overwrite:
                        self._check_overwrite(op)
                    applier.apply(op, tf, info)
        except (tarfile.TarError, EOFError) as exc:
            raise InvalidParameter(f"invalid tar stream: {exc}") from None
        applier.finish()
        for _ in chunks:  # the rest of the body (tar padding)
            pass

    def _check_overwrite(self, op: tp.Op) -> None:
        parts: tuple[str, ...] = getattr(op, "parts", ())
        if not parts:
            return
        try:
            pfd = self.root.open_dir(parts[:-1])
        except (FileNotFoundError, InvalidParameter):
            return
        try:
            mode: int | None = _lstat(pfd, parts[-1]).st_mode
        except FileNotFoundError:
            mode = None
        finally:
            os.close(pfd)
        error = ar.overwrite_error(mode, op)
        if error:
            raise InvalidParameter(error)

    def owner(self) -> tuple[int, int] | None:
        """copyUIDGID: the container user's ids from its own /etc/passwd (None: keep the tar's)."""
        if not self.container.config.user:
            return None
        user = resolve_user(Path(self.root_path), self.container.config.user)
        return user.uid, user.gid

    def write_check(self, dest: tuple[str, ...]) -> None:
        host = self.container.host
        mounts = [ar.MountPoint(m.target, m.read_only) for m in all_mounts(host)]
        error = ar.write_error("/" + "/".join(dest), host.readonly_rootfs, mounts)
        if error:
            raise Forbidden(error)


def _lstat(pfd: int, name: str | None) -> os.stat_result:
    return os.stat(pfd) if name is None else os.stat(name, dir_fd=pfd, follow_symlinks=False)


# -- choosing and opening the view


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _open_mounted(svc: ContainerBase, c: Container) -> Confined | None:
    """The rootfs of a running container where it is mounted; None when it is not (any more)."""
    merged = svc.rootfs.upper_dir(c.id).parent / "merged"
    try:
        root = Confined(merged)
    except OSError:
        return None
    if os.stat(root.fd).st_dev == os.stat(merged.parent).st_dev:
        root.close()  # a bare directory: the container has stopped and its rootfs is unmounted
        return None
    return root


def _open_running(svc: ContainerBase, c: Container, live: bool) -> ContainerFS | None:
    """A view of a running container without its lock: its mount namespace's root when `live`
    (checked to be this container's rootfs, against pid reuse), else its mounted rootfs."""
    mounted = _open_mounted(svc, c)
    if mounted is None:
        return None
    if not live or not c.state.pid:
        return ContainerFS(c, f"/proc/self/fd/{mounted.fd}", mounted)
    proc_root = f"/proc/{c.state.pid}/root"
    try:
        root = Confined(proc_root)
    except OSError:
        return ContainerFS(c, f"/proc/self/fd/{mounted.fd}", mounted)
    if _same_file(os.stat(root.fd), os.stat(mounted.fd)):
        mounted.close()
        return ContainerFS(c, proc_root, root)
    root.close()
    return ContainerFS(c, f"/proc/self/fd/{mounted.fd}", mounted)


@asynccontextmanager
async def open_fs(svc: ContainerBase, ref: str, *, live: bool = True) -> AsyncIterator[ContainerFS]:
    """A view of the container's files for the duration of the block (see the module doc)."""
    c = svc.get(ref)
    fs = await asyncio.to_thread(_open_running, svc, c, live) if c.running else None
    if fs is not None:
        try:
            yield fs
        finally:
            fs.close()
        return
    async with svc._locks[c.id]:
        c = svc.get(c.id)
        merged = await asyncio.to_thread(svc.rootfs.mount, c.id)
        try:
            fs = ContainerFS(c, str(merged), Confined(merged))
            try:
                yield fs
            finally:
                fs.close()
        finally:
            if not c.running:
                await asyncio.to_thread(svc.rootfs.unmount, c.id)


# -- the operations the API calls


async def changes(svc: ContainerBase, ref: str) -> list[tuple[int, str]]:
    """`docker diff`: (kind 0 modified | 1 added | 2 deleted, path) over the image."""
    c = svc.get(ref)
    upper, lowers = svc.rootfs.upper_dir(c.id), svc.rootfs.lower_dirs(c.id)
    found = await asyncio.to_thread(overlay_changes, upper, lowers)
    return ar.visible_changes((int(kind), path) for kind, path in found)


async def stat_path(svc: ContainerBase, ref: str, path: str) -> ar.PathStat:
    """HEAD archive: the stat of `path`; NotFound "Could not find the file ..."."""
    async with open_fs(svc, ref) as fs:
        fs.ref = ref
        return await asyncio.to_thread(fs.stat, path)


@asynccontextmanager
async def archive(
    svc: ContainerBase, ref: str, path: str
) -> AsyncIterator[tuple[ar.PathStat, AsyncIterator[bytes]]]:
    """GET archive: the stat of `path` and its tar stream, readable inside the block."""
    async with open_fs(svc, ref) as fs:
        fs.ref = ref
        found = await asyncio.to_thread(fs.stat, path)
        chunks = await asyncio.to_thread(fs.tar, path)
        stream = thread_chunks(chunks)
        try:
            yield found, stream
        finally:
            await stream.aclose()
        svc.publish(fs.container, "archive-path")


@asynccontextmanager
async def export(svc: ContainerBase, ref: str) -> AsyncIterator[AsyncIterator[bytes]]:
    """`docker export`: the tar of the container's root filesystem, readable inside the block."""
    async with open_fs(svc, ref, live=False) as fs:
        stream = thread_chunks(fs.tar_all())
        try:
            yield stream
        finally:
            await stream.aclose()
        svc.publish(fs.container, "export")


async def extract(
    svc: ContainerBase,
    ref: str,
    path: str,
    chunks: AsyncIterable[bytes],
    *,
    no_overwrite: bool = False,
    copy_uid_gid: bool = False,
) -> None:
    """PUT archive: unpack the uploaded tar into directory `path` of the container."""
    async with open_fs(svc, ref) as fs:
        fs.ref = ref
        dest = await asyncio.to_thread(fs.destination, path)
        fs.write_check(dest)
        owner = await asyncio.to_thread(fs.owner) if copy_uid_gid else None
        await consume_in_thread(chunks, lambda it: fs.extract(dest, it, no_overwrite, owner))
        svc.publish(fs.container, "extract-to-dir")
