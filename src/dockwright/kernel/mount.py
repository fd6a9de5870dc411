"""Mounting and unmounting through libc (no helper processes), and reading the mount table.

Overlay mounts use the new mount API (fsopen/fsconfig with "lowerdir+", Linux 6.8+) because it has
no limit on the number of layers; older kernels get mount(2), where a lowerdir list longer than one
page is shortened by naming each layer as /proc/self/fd/N of an O_PATH descriptor.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dockwright.errors import InvalidParameter
from dockwright.kernel.libc import LIBC, SyscallError, check, encode

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2

_SYS_MOVE_MOUNT = 429
_SYS_FSOPEN = 430
_SYS_FSCONFIG = 431
_SYS_FSMOUNT = 432
_FSCONFIG_SET_STRING = 1
_FSCONFIG_CMD_CREATE = 6
_MOVE_MOUNT_F_EMPTY_PATH = 0x4
_AT_FDCWD = -100
_PAGE_LIMIT = os.sysconf("SC_PAGE_SIZE") - 1
_OCTAL = re.compile(r"\\([0-7]{3})")

LIBC.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
LIBC.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
LIBC.syscall.restype = ctypes.c_long


class Mounter(Protocol):
    """What callers need from the mount table; LinuxMounter is real, kernel.fakes records."""

    def mount(
        self, source: str, target: Path, fstype: str, flags: int = 0, data: str = ""
    ) -> None: ...

    def mount_overlay(
        self, lowerdirs: Sequence[Path], upper: Path | None, work: Path | None, target: Path
    ) -> None: ...

    def unmount(self, target: Path, *, detach: bool = True) -> None: ...

    def is_mountpoint(self, path: Path) -> bool: ...


@dataclass(frozen=True)
class MountInfo:
    """One line of /proc/self/mountinfo."""

    mount_id: int
    parent_id: int
    root: str
    mount_point: str
    options: str
    fstype: str
    source: str
    super_options: str


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as three-digit octal escapes."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[MountInfo]:
    """Parse the mountinfo format (fields before " - " vary in number; see proc(5))."""
    result = []
    for line in text.splitlines():
        if not line.strip():
            continue
        head, _, tail = line.partition(" - ")
        pre, post = head.split(" "), tail.split(" ")
        result.append(
            MountInfo(
                mount_id=int(pre[0]),
                parent_id=int(pre[1]),
                root=_unescape(pre[3]),
                mount_point=_unescape(pre[4]),
                options=pre[5],
                fstype=post[0],
                source=_unescape(post[1]) if len(post) > 1 else "",
                super_options=post[2] if len(post) > 2 else "",
            )
        )
    return result


def read_mountinfo() -> list[MountInfo]:
    return parse_mountinfo(Path("/proc/self/mountinfo").read_text())


def is_mountpoint(path: Path) -> bool:
    """True when `path` is itself a mount point (bind mounts included, unlike st_dev checks)."""
    real = os.path.realpath(path)
    return any(m.mount_point == real for m in read_mountinfo())


def mount(source: str, target: Path, fstype: str, flags: int = 0, data: str = "") -> None:
    """mount(2); raises SyscallError naming the target."""
    ret = LIBC.mount(
        encode(source),
        encode(target),
        encode(fstype) if fstype else None,
        ctypes.c_ulong(flags),
        ctypes.c_char_p(data.encode()) if data else None,
    )
    check(ret, f"mount {fstype or source} on {target}")


def unmount(target: Path, *, detach: bool = True) -> None:
    """umount2(2); a target that is not mounted (or gone) is not an error: unmounting is idempotent."""
    ret = LIBC.umount2(encode(target), MNT_DETACH if detach else 0)
    if ret < 0:
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.ENOENT):
            return
        raise SyscallError(f"unmount {target}: {os.strerror(err).lower()}", err)


def overlay_data(lowerdirs: Sequence[str], upper: Path | None, work: Path | None) -> str:
    """The mount(2) data string for overlayfs; the first lowerdir is the topmost layer."""
    parts = ["lowerdir=" + ":".join(lowerdirs)]
    if upper is not None and work is not None:
        parts += [f"upperdir={upper}", f"workdir={work}"]
    return ",".join(parts)


def _validate_overlay(lowerdirs: Sequence[Path], upper: Path | None, work: Path | None) -> None:
    if not lowerdirs:
        raise InvalidParameter("overlay mount needs at least one lowerdir")
    if (upper is None) != (work is None):
        raise InvalidParameter("overlay mount needs both upperdir and workdir, or neither")
    if upper is None and len(lowerdirs) < 2:
        raise InvalidParameter("read-only overlay mount needs at least two lowerdirs")
    for d in [*lowerdirs, *(p for p in (upper, work) if p is not None)]:
        if ":" in str(d) or "," in str(d):
            raise InvalidParameter(f"overlay layer path must not contain ':' or ',': {d}")


def mount_overlay(
    lowerdirs: Sequence[Path], upper: Path | None, work: Path | None, target: Path
) -> None:
    """Mount overlayfs on `target` (lowerdirs[0] on top); any number of layers."""
    _validate_overlay(lowerdirs, upper, work)
    try:
        _overlay_new_api(lowerdirs, upper, work, target)
        return
    except _NoNewApi:
        pass
    _overlay_legacy(lowerdirs, upper, work, target)


class _NoNewApi(Exception):
    """This kernel lacks fsopen or overlay's "lowerdir+" key."""


def _syscall(number: int, *args: object) -> int:
    return int(LIBC.syscall(ctypes.c_long(number), *args))


def _fs_error_log(fd: int) -> str:
    """The kernel's own explanation queued on an fs context (lines like "e overlayfs: ...")."""
    lines = []
    while True:
        try:
            lines.append(os.read(fd, 1024).decode(errors="replace").strip())
        except OSError:
            return "; ".join(line[2:] if line[:2] in ("e ", "w ") else line for line in lines)


def _fsconfig(fd: int, key: str, value: object, target: Path) -> None:
    ret = _syscall(
        _SYS_FSCONFIG,
        ctypes.c_int(fd),
        ctypes.c_uint(_FSCONFIG_SET_STRING),
        ctypes.c_char_p(key.encode()),
        ctypes.c_char_p(encode(value)),
        ctypes.c_int(0),
    )
    if ret < 0:
        err = ctypes.get_errno()
        if key == "lowerdir+" and err == errno.EINVAL:
            raise _NoNewApi  # kernels before 6.8 do not know the key
        raise SyscallError(f"mount overlay on {target}: {key}={value}: {_why(fd, err)}", err)


def _why(fd: int, err: int) -> str:
    return _fs_error_log(fd) or os.strerror(err).lower()


def _overlay_new_api(
    lowerdirs: Sequence[Path], upper: Path | None, work: Path | None, target: Path
) -> None:
    fd = _syscall(_SYS_FSOPEN, ctypes.c_char_p(b"overlay"), ctypes.c_uint(1))
    if fd < 0:
        raise _NoNewApi
    try:
        for d in lowerdirs:
            _fsconfig(fd, "lowerdir+", d, target)
        if upper is not None:
            _fsconfig(fd, "upperdir", upper, target)
            _fsconfig(fd, "workdir", work, target)
        _fs_create_and_move(fd, target)
    finally:
        os.close(fd)


def _fs_create_and_move(fd: int, target: Path) -> None:
    null = ctypes.c_char_p(None)
    cmd = ctypes.c_uint(_FSCONFIG_CMD_CREATE)
    if _syscall(_SYS_FSCONFIG, ctypes.c_int(fd), cmd, null, null, ctypes.c_int(0)) < 0:
        err = ctypes.get_errno()
        raise SyscallError(f"mount overlay on {target}: {_why(fd, err)}", err)
    mfd = check(
        _syscall(_SYS_FSMOUNT, ctypes.c_int(fd), ctypes.c_uint(1), ctypes.c_uint(0)),
        f"mount overlay on {target}",
    )
    try:
        check(
            _syscall(
                _SYS_MOVE_MOUNT,
                ctypes.c_int(mfd),
                ctypes.c_char_p(b""),
                ctypes.c_int(_AT_FDCWD),
                ctypes.c_char_p(encode(target)),
                ctypes.c_uint(_MOVE_MOUNT_F_EMPTY_PATH),
            ),
            f"mount overlay on {target}",
        )
    finally:
        os.close(mfd)


def _overlay_legacy(
    lowerdirs: Sequence[Path], upper: Path | None, work: Path | None, target: Path
) -> None:
    data = overlay_data([str(d) for d in lowerdirs], upper, work)
    if len(data) <= _PAGE_LIMIT:
        mount("overlay", target, "overlay", 0, data)
        return
    fds = [os.open(d, os.O_PATH | os.O_CLOEXEC) for d in lowerdirs]
    try:
        data = overlay_data([f"/proc/self/fd/{fd}" for fd in fds], upper, work)
        if len(data) > _PAGE_LIMIT:
            raise InvalidParameter(f"too many layers for an overlay mount: {len(lowerdirs)}")
        mount("overlay", target, "overlay", 0, data)
    finally:
        for fd in fds:
            os.close(fd)


class LinuxMounter:
    """The real Mounter."""

    def mount(self, source: str, target: Path, fstype: str, flags: int = 0, data: str = "") -> None:
        mount(source, target, fstype, flags, data)

    def mount_overlay(
        self, lowerdirs: Sequence[Path], upper: Path | None, work: Path | None, target: Path
    ) -> None:
        mount_overlay(lowerdirs, upper, work, target)

    def unmount(self, target: Path, *, detach: bool = True) -> None:
        unmount(target, detach=detach)

    def is_mountpoint(self, path: Path) -> bool:
        return is_mountpoint(path)
