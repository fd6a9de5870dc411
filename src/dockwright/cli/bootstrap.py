"""Offline base images: a busybox root filesystem as a deterministic tar stream.

`write_busybox_rootfs` is pure apart from reading the busybox binary and asking it for its applet
list; the same binary always yields byte-identical tar output (fixed mtimes, sorted entries,
uid/gid 0), so image ids made from it are stable across runs and machines.
"""

from __future__ import annotations

import io
import posixpath
import subprocess
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from dockwright.errors import InvalidParameter, NotFound

# 2024-01-01T00:00:00Z: a fixed mtime so the tarball (and its digest) never depends on "now".
EPOCH = 1704067200

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
GROUP = "root:x:0:\nnobody:x:65534:\nnogroup:x:65533:\n"

# Directories every image needs, with their modes (the runtime mounts over proc/sys/dev).
BASE_DIRS: dict[str, int] = {
    "bin": 0o755,
    "dev": 0o755,
    "etc": 0o755,
    "home": 0o755,
    "proc": 0o555,
    "root": 0o700,
    "sbin": 0o755,
    "sys": 0o555,
    "tmp": 0o1777,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "var": 0o755,
}

SUPPORTED = ("busybox",)


@dataclass(frozen=True)
class Entry:
    """One tar member in plan form: a directory, a regular file (with data) or a symlink."""

    path: str
    kind: str  # "dir" | "file" | "symlink"
    mode: int = 0o755
    data: bytes = b""
    target: str = ""


def applet_paths(busybox: str) -> list[str]:
    """Ask the busybox binary where its applets live (relative paths like `bin/ls`)."""
    try:
        out = subprocess.run(
            [busybox, "--list-full"], check=True, capture_output=True, text=True
        ).stdout
    except FileNotFoundError as exc:
        raise NotFound(f"busybox binary not found: {busybox}") from exc
    except subprocess.CalledProcessError as exc:
        raise InvalidParameter(f"{busybox} --list-full failed: {exc.stderr.strip()}") from exc
    return sorted({line.strip().lstrip("/") for line in out.splitlines() if "/" in line.strip()})


def link_target(path: str) -> str:
    """Relative symlink from `path` to bin/busybox (relative so safe tar extractors accept it)."""
    return posixpath.relpath("bin/busybox", posixpath.dirname(path) or ".")


def plan_rootfs(busybox_data: bytes, applets: Iterable[str]) -> list[Entry]:
    """Every member of the rootfs, parents before children, sorted by path."""
    entries: dict[str, Entry] = {p: Entry(p, "dir", mode) for p, mode in BASE_DIRS.items()}
    entries["bin/busybox"] = Entry("bin/busybox", "file", 0o755, busybox_data)
    entries["etc/passwd"] = Entry("etc/passwd", "file", 0o644, PASSWD.encode())
    entries["etc/group"] = Entry("etc/group", "file", 0o644, GROUP.encode())
    for path in applets:
        if path == "bin/busybox" or path in entries:
            continue
        for parent in _parents(path):
            entries.setdefault(parent, Entry(parent, "dir", 0o755))
        entries[path] = Entry(path, "symlink", 0o777, target=link_target(path))
    return [entries[k] for k in sorted(entries, key=lambda p: p.split("/"))]


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _tarinfo(entry: Entry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.path)
    info.mtime = EPOCH
    info.mode = entry.mode
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
    elif entry.kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = entry.target
    else:
        info.size = len(entry.data)
    return info


def write_entries(fileobj: BinaryIO, entries: Iterable[Entry]) -> None:
    """Write planned entries as a POSIX (pax) tar stream; `fileobj` stays open."""
    with tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            data = io.BytesIO(entry.data) if entry.kind == "file" else None
            tar.addfile(_tarinfo(entry), data)


def write_busybox_rootfs(fileobj: BinaryIO, busybox: str = "/bin/busybox") -> None:
    """Write a busybox root filesystem tar to `fileobj`: /bin/busybox, every applet as a
    relative symlink to it, /etc/passwd and /etc/group (root, nobody, nogroup), /tmp (1777),
    /root, /proc, /sys, /dev, /var, /home. Deterministic for a given busybox binary."""
    try:
        with open(busybox, "rb") as f:
            data = f.read()
    except FileNotFoundError as exc:
        raise NotFound(f"busybox binary not found: {busybox}") from exc
    applets = [p for p in applet_paths(busybox) if "/" in p]
    write_entries(fileobj, plan_rootfs(data, applets))


def check_supported(name: str) -> str:
    """The bootstrap recipe for an image name like `busybox` or `busybox:1`; raise for others."""
    base = name.split(":", 1)[0]
    if base not in SUPPORTED:
        raise InvalidParameter(
            f"cannot bootstrap {name!r}: supported images are {', '.join(SUPPORTED)}"
        )
    return base
