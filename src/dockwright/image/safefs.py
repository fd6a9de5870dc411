"""Filesystem operations confined to one directory tree, through directory file descriptors.

Every path is walked one component at a time with O_NOFOLLOW from a descriptor of the root, and a
symlink met on the way is resolved *inside* the root (an absolute target restarts at the root,
``..`` stops there), the way a chroot would see it. So no crafted entry — a symlink to /etc
followed by a write through it, an absolute or climbing name — can reach outside the tree.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence

from dockwright.errors import InvalidParameter

MAX_LINKS = 40  # like the kernel's ELOOP limit
_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Confined:
    """A root directory and the operations that never leave it. Close it when done."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.fd = os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> Confined:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open_dir(self, parts: Sequence[str], create: bool = False) -> int:
        """An O_PATH descriptor of the directory at `parts` (the caller closes it).

        Missing directories are made (0755) when `create`, else FileNotFoundError. A component
        that exists but is neither a directory nor a symlink gives InvalidParameter.
        """
        stack = [os.dup(self.fd)]
        todo = list(reversed(parts))
        links = 0
        try:
            while todo:
                name = todo.pop()
                if name in ("", "."):
                    continue
                if name == "..":
                    if len(stack) > 1:
                        os.close(stack.pop())
                    continue
                step = _step(stack[-1], name, create, parts)
                if isinstance(step, int):
                    stack.append(step)
                    continue
                links += 1
                if links > MAX_LINKS:
                    raise InvalidParameter(f"too many levels of symbolic links in {_show(parts)}")
                if step.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                todo.extend(reversed(step.split("/")))
            return stack.pop()
        finally:
            for fd in stack:
                os.close(fd)


def _step(dirfd: int, name: str, create: bool, parts: Sequence[str]) -> int | str:
    """Descend into `name`: its descriptor, or the target string when it is a symlink."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dirfd)
    except FileNotFoundError:
        if not create:
            raise
        os.mkdir(name, 0o755, dir_fd=dirfd)
        os.chmod(name, 0o755, dir_fd=dirfd)  # independent of the daemon's umask
        return os.open(name, _DIR_FLAGS, dir_fd=dirfd)
    except OSError as exc:
        if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
            raise
    if stat.S_ISLNK(os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_mode):
        return os.readlink(name, dir_fd=dirfd)
    raise InvalidParameter(f"cannot extract {_show(parts)}: {name} is not a directory")


def clear(dirfd: int, name: str, keep_dir: bool) -> bool:
    """Remove whatever is at `name` so a new entry can take its place.

    An existing directory is kept when `keep_dir` (a directory entry over a directory merges);
    returns True in that case.
    """
    try:
        st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        if keep_dir:
            return True
        remove_tree(name, dir_fd=dirfd)
    else:
        os.unlink(name, dir_fd=dirfd)
    return False


_READ_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: str | os.PathLike[str], dir_fd: int | None = None) -> None:
    """``rm -rf`` for trees of any depth (shutil.rmtree recurses and a layer or a container can
    nest directories thousands deep). Never follows symlinks; a missing path is fine. It walks
    down and back up with one descriptor, so it is meant for trees nobody else is changing."""
    try:
        fd = os.open(path, _READ_DIR, dir_fd=dir_fd)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
            raise
        os.unlink(path, dir_fd=dir_fd)
        return
    names: list[str] = []
    try:
        while True:
            sub = _clear_files(fd)
            if sub is not None:
                fd = _swap(fd, os.open(sub, _READ_DIR, dir_fd=fd))
                names.append(sub)
            elif names:
                fd = _swap(fd, os.open("..", _READ_DIR, dir_fd=fd))
                os.rmdir(names.pop(), dir_fd=fd)
            else:
                break
    finally:
        os.close(fd)
    os.rmdir(path, dir_fd=dir_fd)


def _swap(old: int, new: int) -> int:
    os.close(old)
    return new


def _clear_files(fd: int) -> str | None:
    """Unlink every non-directory in `fd`; the name of one subdirectory left, if any."""
    subdir = None
    with os.scandir(fd) as it:
        for entry in it:
            if entry.is_dir(follow_symlinks=False):
                subdir = subdir or entry.name
            else:
                os.unlink(entry.name, dir_fd=fd)
    return subdir


def proc_path(dirfd: int, name: str = "") -> str:
    """A path naming `name` in the directory `dirfd` (for calls that take no dir_fd)."""
    base = f"/proc/self/fd/{dirfd}"
    return f"{base}/{name}" if name else base


def _show(parts: Sequence[str]) -> str:
    return "/" + "/".join(parts)
