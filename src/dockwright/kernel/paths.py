"""Resolving paths inside a container's root filesystem without escaping it."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from dockwright.errors import InvalidParameter

_MAX_LINKS = 255


def resolve_in_root(root: Path, path: str) -> Path:
    """The host path of `path` as seen by a process chrooted at `root`.

    Every symlink is followed as the container would follow it: absolute targets and ".."
    stay inside `root`, so an image cannot point the daemon at host files. The final component
    need not exist.
    """
    pending = list(PurePosixPath("/", path).parts[1:])
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        host = root.joinpath(*resolved, part)
        if not os.path.islink(host):
            resolved.append(part)
            continue
        links += 1
        if links > _MAX_LINKS:
            raise InvalidParameter(f"too many levels of symbolic links: {path}")
        target = os.readlink(host)
        if target.startswith("/"):
            resolved = []
        pending = list(PurePosixPath(target).parts) + pending
        if pending and pending[0] == "/":
            pending.pop(0)
    return root.joinpath(*resolved)
