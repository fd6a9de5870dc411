"""A read-only bind mount of the OCI runtime binary, so crun need not copy itself at every call.

crun (like runc) guards against CVE-2019-5736 — a container overwriting the host's runtime
binary through /proc/<pid>/exe — by copying its own executable to a temporary file and
re-executing that copy before doing anything else, on every invocation, unless it already runs
from a read-only file system. That copy and second exec are about half of what `crun exec` or
`crun create` costs. Running the runtime from a read-only bind mount of itself is the remedy
its authors document: /proc/<pid>/exe then names a file no one can write through.

The mount lives under the daemon's runtime state and outlives the daemon while containers run
(conmon calls the runtime by that path); `release` removes it once none is left.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from dockwright.kernel.mount import MS_BIND, MS_RDONLY, MS_REMOUNT, is_mountpoint, mount, unmount


def pin_read_only(binary: str, target: Path) -> str:
    """`target` as a read-only bind mount of `binary` (made once, kept if already there)."""
    if is_mountpoint(target):
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.touch(mode=0o500, exist_ok=True)
    try:
        mount(os.path.realpath(binary), target, "", MS_BIND)
        mount("", target, "", MS_REMOUNT | MS_BIND | MS_RDONLY)
    except BaseException:
        unmount(target)
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        raise
    return str(target)


def release(target: Path) -> None:
    """Undo `pin_read_only` (idempotent)."""
    unmount(target)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
