"""Device nodes of the host, for privileged containers (Docker gives them every host device)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

# Mounted separately inside every container; never copied as device nodes.
_SKIP_DIRS = frozenset({"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"})


@dataclass(frozen=True)
class DeviceNode:
    """An OCI linux.devices entry: type "c" or "b"."""

    path: str
    type: str
    major: int
    minor: int
    file_mode: int = 0o666
    uid: int = 0
    gid: int = 0


def device_from_stat(path: str, st: os.stat_result) -> DeviceNode | None:
    """A DeviceNode for a char or block special file, else None."""
    if stat.S_ISCHR(st.st_mode):
        kind = "c"
    elif stat.S_ISBLK(st.st_mode):
        kind = "b"
    else:
        return None
    dev = st.st_rdev
    return DeviceNode(
        path, kind, os.major(dev), os.minor(dev), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
    )


def host_devices(root: Path = Path("/dev")) -> tuple[DeviceNode, ...]:
    """Every device node under /dev (no symlinks), sorted by path."""
    found = []
    for dirpath, dirs, files in os.walk(root):
        if Path(dirpath) == root:
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                node = device_from_stat(path, os.lstat(path))
            except OSError:
                continue
            if node is not None and not path.endswith("/console"):
                found.append(node)
    return tuple(sorted(found, key=lambda d: d.path))
