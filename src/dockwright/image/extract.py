"""Apply a layer tarball to a directory: the executor of the operations `tarplan` decides.

`extract(chunks, dest)` reads the (possibly compressed) tar stream once, hashing the
uncompressed bytes as they go by (that hash is the layer's diff_id), and writes every entry
through `safefs.Confined`, so nothing lands outside `dest`. Modes, ownership, mtimes, xattrs,
symlinks, hardlinks, device nodes and FIFOs are preserved; whiteouts become overlayfs whiteouts.
Directory modes and mtimes are applied at the end (children would change the mtime; a read-only
directory would refuse its children). On error `dest` is left partly written: the caller
extracts into a temporary directory and removes it (see `layers.LayerStore.apply`).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import stat
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dockwright.errors import InvalidParameter
from dockwright.image import tarplan as tp
from dockwright.image.decompress import Reader, decompressed
from dockwright.image.safefs import Confined, clear, proc_path
from dockwright.store.pump import ChunkReader

log = logging.getLogger(__name__)

COPY_CHUNK = 1 << 20
_IGNORED_XATTR_ERRORS = (errno.ENOTSUP, errno.EPERM)


@dataclass(frozen=True)
class Extracted:
    """What `extract` learned: the sha256 of the uncompressed tar and its length."""

    diff_id: str
    tar_size: int


class _Hashing:
    """Counts and hashes every byte read through it."""

    def __init__(self, inner: Reader) -> None:
        self._inner = inner
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1, /) -> bytes:
        data = self._inner.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(COPY_CHUNK):
            pass


def extract(chunks: Iterable[bytes], dest: Path, *, chown: bool = True) -> Extracted:
    """Unpack a plain/gzip/bzip2/xz layer tar from `chunks` into the existing directory `dest`.

    InvalidParameter for a malformed or hostile stream; OSError for local failures.
    """
    src = _Hashing(decompressed(ChunkReader(chunks)))
    with Confined(dest) as root:
        applier = _Applier(root, chown)
        try:
            with tarfile.open(fileobj=src, mode="r|") as tf:  # type: ignore[call-overload]
                for info in tf:
                    applier.apply(tp.plan_member(info), tf, info)
        except (tarfile.TarError, EOFError) as exc:
            raise InvalidParameter(f"invalid tar stream: {exc}") from None
        src.drain()
        applier.finish()
    return Extracted("sha256:" + src.sha.hexdigest(), src.size)


class _Applier:
    """Executes one operation per tar entry under a confined root."""

    def __init__(self, root: Confined, chown: bool) -> None:
        self.root = root
        self.chown = chown
        self.dirs: dict[tp.Parts, tp.Meta] = {}  # mode and mtime applied in finish()

    def apply(self, op: tp.Op, tf: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        if isinstance(op, tp.Skip):
            log.debug("skipping tar entry %s: %s", op.name, op.reason)
        elif isinstance(op, tp.Dir):
            self._dir(op)
        elif isinstance(op, tp.Opaque):
            self._opaque(op)
        else:
            pfd = self.root.open_dir(op.parts[:-1], create=True)
            try:
                self._leaf(op, pfd, op.parts[-1], tf, info)
            finally:
                os.close(pfd)

    def _leaf(
        self, op: tp.Op, pfd: int, name: str, tf: tarfile.TarFile, info: tarfile.TarInfo
    ) -> None:
        if isinstance(op, tp.Hardlink):
            self._hardlink(op, pfd, name)
            return
        clear(pfd, name, keep_dir=False)
        if isinstance(op, tp.File):
            self._file(op, pfd, name, tf, info)
        elif isinstance(op, tp.Symlink):
            os.symlink(op.target, name, dir_fd=pfd)
            self._meta(pfd, name, op.meta, chmod=False)
        elif isinstance(op, tp.Device):
            self._device(op, pfd, name)
        elif isinstance(op, tp.Whiteout):
            os.mknod(name, stat.S_IFCHR, os.makedev(0, 0), dir_fd=pfd)
            if self.chown:
                os.chown(name, op.uid, op.gid, dir_fd=pfd, follow_symlinks=False)

    def _dir(self, op: tp.Dir) -> None:
        if op.parts:
            pfd = self.root.open_dir(op.parts[:-1], create=True)
            try:
                name = op.parts[-1]
                if not clear(pfd, name, keep_dir=True):
                    os.mkdir(name, 0o700, dir_fd=pfd)
            finally:
                os.close(pfd)
        fd = self.root.open_dir(op.parts)
        try:
            self._owner_and_xattrs(proc_path(fd), op.meta)
        finally:
            os.close(fd)
        self.dirs[op.parts] = op.meta

    def _opaque(self, op: tp.Opaque) -> None:
        if not op.parts:
            return  # an opaque layer root would hide every lower layer: never meant
        fd = self.root.open_dir(op.parts, create=True)
        try:
            os.setxattr(proc_path(fd), tp.OPAQUE_XATTR, b"y")
        finally:
            os.close(fd)

    def _file(
        self, op: tp.File, pfd: int, name: str, tf: tarfile.TarFile, info: tarfile.TarInfo
    ) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(name, flags, 0o600, dir_fd=pfd)
        try:
            data = tf.extractfile(info)
            if data is not None:
                with data, os.fdopen(os.dup(fd), "wb", closefd=True) as out:
                    shutil.copyfileobj(data, out, COPY_CHUNK)
            if self.chown:
                os.chown(fd, op.meta.uid, op.meta.gid)
            os.chmod(fd, op.meta.mode)
            _set_xattrs(fd, op.meta.xattrs)
            os.utime(fd, ns=_ns(op.meta.mtime))
        finally:
            os.close(fd)

    def _device(self, op: tp.Device, pfd: int, name: str) -> None:
        if op.kind == stat.S_IFIFO:
            os.mkfifo(name, 0o600, dir_fd=pfd)
        else:
            os.mknod(name, op.kind | 0o600, os.makedev(op.major, op.minor), dir_fd=pfd)
        self._meta(pfd, name, op.meta, chmod=True)

    def _hardlink(self, op: tp.Hardlink, pfd: int, name: str) -> None:
        if op.target == op.parts:
            return
        try:
            tfd = self.root.open_dir(op.target[:-1])
        except FileNotFoundError:
            raise InvalidParameter(f"invalid hardlink {_show(op.parts)}: no target") from None
        try:
            os.stat(op.target[-1], dir_fd=tfd, follow_symlinks=False)
            clear(pfd, name, keep_dir=False)
            os.link(op.target[-1], name, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            raise InvalidParameter(
                f"invalid hardlink {_show(op.parts)}: no target {_show(op.target)}"
            ) from None
        finally:
            os.close(tfd)

    def _meta(self, pfd: int, name: str, meta: tp.Meta, chmod: bool) -> None:
        """Owner, mode, xattrs and mtime of a non-regular leaf entry, without following it."""
        path = proc_path(pfd, name)
        self._owner_and_xattrs(path, meta, follow=False)
        if chmod:
            os.chmod(name, meta.mode, dir_fd=pfd)
        os.utime(name, ns=_ns(meta.mtime), dir_fd=pfd, follow_symlinks=False)

    def _owner_and_xattrs(self, path: str, meta: tp.Meta, follow: bool = True) -> None:
        if self.chown:
            os.chown(path, meta.uid, meta.gid, follow_symlinks=follow)
        _set_xattrs(path, meta.xattrs, follow)

    def finish(self) -> None:
        """Directory modes and mtimes, deepest first, once nothing more is written into them."""
        for parts in sorted(self.dirs, key=len, reverse=True):
            meta = self.dirs[parts]
            try:
                fd = self.root.open_dir(parts)
            except (FileNotFoundError, InvalidParameter):
                continue  # replaced by a later entry
            try:
                os.chmod(proc_path(fd), meta.mode)
                os.utime(proc_path(fd), ns=_ns(meta.mtime))
            finally:
                os.close(fd)


def _set_xattrs(
    target: int | str, xattrs: tuple[tuple[str, bytes], ...], follow: bool = True
) -> None:
    for name, value in xattrs:
        try:
            os.setxattr(target, name, value, follow_symlinks=follow)
        except OSError as exc:
            if exc.errno not in _IGNORED_XATTR_ERRORS:
                raise
            log.warning("cannot set xattr %s: %s", name, exc.strerror)


def _ns(mtime: float) -> tuple[int, int]:
    ns = int(mtime * 1_000_000_000) if isinstance(mtime, float) else int(mtime) * 1_000_000_000
    return ns, ns


def _show(parts: tp.Parts) -> str:
    return "/" + "/".join(parts)
