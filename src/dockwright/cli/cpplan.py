"""`docker cp` path semantics, pure: which directory receives the archive and how its top-level
entry must be renamed, from what we know about the source and the destination.

Rules (docker's archive.PrepareArchiveCopy):
    dst is a dir                → extract into dst, names kept
    dst exists, src is a dir    → error: cannot copy a directory to a file
    dst is a file               → rename src's top entry to dst's name, extract into dst's parent
    dst missing, src is a dir   → rename to dst's name (dst becomes the copy), extract into parent
    dst missing, ends with "/"  → error: the destination directory must exist
    dst missing, src is a file  → rename to dst's name, extract into parent
"""

from __future__ import annotations

import base64
import json
import posixpath
from dataclasses import dataclass
from typing import Any

from dockwright.errors import InvalidParameter, NotFound

GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27


@dataclass(frozen=True)
class PathInfo:
    path: str
    exists: bool
    is_dir: bool = False


@dataclass(frozen=True)
class CopyPlan:
    """Extract into `directory`; rename the archive's top entry `old` to `new` (if both set)."""

    directory: str
    old: str = ""
    new: str = ""


def split_cp_arg(arg: str) -> tuple[str, str]:
    """`container:path` → (container, path); a local path (absolute, or `./x:y`) → ("", arg)."""
    if arg.startswith("/"):
        return "", arg
    container, sep, path = arg.partition(":")
    if not sep or container.startswith("."):
        return "", arg
    return container, path


def asserts_directory(path: str) -> bool:
    return path.endswith("/") or path.endswith("/.")


def base_name(path: str) -> str:
    """Last element, keeping `.` for `dir/.` (copy the directory's contents)."""
    if path.endswith("/."):
        return "."
    return posixpath.basename(path.rstrip("/")) or "/"


def plan_copy(src: PathInfo, dst: PathInfo) -> CopyPlan:
    src_base = base_name(src.path)
    dst_dir, dst_base = posixpath.split(dst.path.rstrip("/") or "/")
    if dst.exists and dst.is_dir:
        return CopyPlan(dst.path)
    if dst.exists and src.is_dir:
        raise InvalidParameter("cannot copy directory to file")
    if dst.exists:
        return CopyPlan(dst_dir or "/", src_base, dst_base)
    if src.is_dir:
        return CopyPlan(dst_dir or "/", src_base, dst_base)
    if asserts_directory(dst.path):
        raise NotFound(f"no such directory: {dst.path}")
    return CopyPlan(dst_dir or "/", src_base, dst_base)


def rebase(name: str, old: str, new: str) -> str:
    """Rename a tar entry whose first path element is `old` (or all entries for `.`)."""
    if not old or not new or old == new:
        return name
    if old == ".":
        return posixpath.normpath(posixpath.join(new, name))
    head, sep, rest = name.partition("/")
    if head == old:
        return new + sep + rest
    return name


def decode_stat(header: str | None) -> dict[str, Any] | None:
    """The `X-Docker-Container-Path-Stat` header (base64 JSON: name, size, mode, mtime, linkTarget)."""
    if not header:
        return None
    try:
        return dict(json.loads(base64.b64decode(header)))
    except (ValueError, TypeError):
        return None


def stat_is_dir(stat: dict[str, Any] | None) -> bool:
    return bool(stat and int(stat.get("mode", 0)) & GO_MODE_DIR)
