"""Write a tar stream of a directory tree reached only through directory descriptors.

The walk never follows a symlink (they are archived as symlinks) and opens every entry relative
to its parent's descriptor with O_NOFOLLOW, so a tree that changes while it is read (a running
container) cannot steer the walk outside it. Entries that vanish meanwhile are left out; a file
that shrinks is padded with zeros so the archive stays well-formed. Hardlinked files are stored
once and linked afterwards; sockets are skipped, as Docker does.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import tarfile
from collections.abc import AsyncGenerator, Generator, Iterator

from dockwright.engine.containers import archive as ar

CHUNK = 256 * 1024
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)

Links = dict[tuple[int, int], str]


def tar_tree(
    parent_fd: int, name: str | None, entry: str | None, prefix: str, own_fd: bool = False
) -> Iterator[bytes]:
    """The tar of `name` in directory `parent_fd` (of `parent_fd` itself when name is None).

    The start is archived as `entry` (not at all when None) and its children as
    `prefix` + their path. With `own_fd` the generator closes `parent_fd` when done.
    """
    return _coalesce(_tree(parent_fd, name, entry, prefix, own_fd))


def _tree(
    parent_fd: int, name: str | None, entry: str | None, prefix: str, own_fd: bool
) -> Iterator[bytes]:
    links: Links = {}
    stack: list[tuple[int, Iterator[str], str]] = []
    try:
        top: int | None
        if name is None:
            top = os.open(".", _DIR, dir_fd=parent_fd)
            if entry is not None:
                yield ar.header_bytes(_header(entry, os.stat(top)))
        else:
            top = yield from _member(parent_fd, name, entry or name, links)
        if top is not None:
            stack.append((top, _names(top), prefix))
        while stack:
            fd, names, pre = stack[-1]
            child = next(names, None)
            if child is None:
                os.close(stack.pop()[0])
                continue
            sub = yield from _member(fd, child, pre + child, links)
            if sub is not None:
                stack.append((sub, _names(sub), ar.child_prefix(pre + child)))
        yield ar.END_OF_ARCHIVE
    finally:
        for fd, _, _ in stack:
            os.close(fd)
        if own_fd:
            os.close(parent_fd)


def _names(fd: int) -> Iterator[str]:
    try:
        return iter(sorted(os.listdir(fd)))
    except OSError:
        return iter(())


def _header(name: str, st: os.stat_result, link: str = "") -> tarfile.TarInfo:
    ids = (st.st_uid, st.st_gid)
    return ar.tar_header(name, st.st_mode, st.st_size, st.st_mtime, ids, link, st.st_rdev)


def _member(
    dir_fd: int, name: str, tar_name: str, links: Links
) -> Generator[bytes, None, int | None]:
    """Archive one entry; a directory's opened descriptor is returned for its children."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            sub = os.open(name, _DIR, dir_fd=dir_fd)
            yield ar.header_bytes(_header(tar_name, st))
            return sub
        if stat.S_ISREG(st.st_mode):
            yield from _file(dir_fd, name, tar_name, st, links)
        elif not stat.S_ISSOCK(st.st_mode):
            link = os.readlink(name, dir_fd=dir_fd) if stat.S_ISLNK(st.st_mode) else ""
            yield ar.header_bytes(_header(tar_name, st, link))
    except OSError as exc:
        if exc.errno not in _GONE:
            raise
    return None


def _file(
    dir_fd: int, name: str, tar_name: str, st: os.stat_result, links: Links
) -> Iterator[bytes]:
    key = (st.st_dev, st.st_ino)
    if st.st_nlink > 1:
        if key in links:
            ids = (st.st_uid, st.st_gid)
            yield ar.header_bytes(ar.tar_header(tar_name, 0, 0, st.st_mtime, ids, links[key]))
            return
        links[key] = tar_name
    fd = os.open(name, _FILE, dir_fd=dir_fd)
    try:
        if not _same_file(os.fstat(fd), st):
            return  # replaced between lstat and open
        yield ar.header_bytes(_header(tar_name, st))
        yield from _data(fd, st.st_size)
        yield ar.padding(st.st_size)
    finally:
        os.close(fd)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return stat.S_ISREG(a.st_mode) and (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _data(fd: int, size: int) -> Iterator[bytes]:
    """Exactly `size` bytes of the file: cut when it grew, zero-padded when it shrank."""
    left = size
    while left:
        data = os.read(fd, min(CHUNK, left))
        if not data:
            break
        left -= len(data)
        yield data
    while left:
        step = min(CHUNK, left)
        left -= step
        yield b"\0" * step


def _coalesce(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Join small pieces (headers, padding) into chunks of about CHUNK bytes."""
    buf = bytearray()
    try:
        for piece in chunks:
            buf += piece
            if len(buf) >= CHUNK:
                yield bytes(buf)
                buf.clear()
        if buf:
            yield bytes(buf)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


async def thread_chunks(chunks: Iterator[bytes]) -> AsyncGenerator[bytes, None]:
    """Run a blocking chunk generator in worker threads, one chunk at a time (backpressure).

    Closing this iterator early waits for a chunk being made and then closes the generator,
    so its descriptors are released.
    """
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[bytes | None] | None = None
    try:
        while True:
            pending = loop.run_in_executor(None, next, chunks, None)
            chunk = await pending
            if chunk is None:
                return
            yield chunk
    finally:
        if pending is not None and not pending.done():
            await asyncio.wait([pending])
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
