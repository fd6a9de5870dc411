"""What a context sync must upload, and which kept contexts go. Pure.

A client offers its context's regular files as `{path: fingerprint}`; the fingerprint is the
client's own summary of the file's stat (size, mtime, ctime, inode), compared for equality only,
as BuildKit's file sync compares stat and not content. A file whose fingerprint equals the one
the daemon kept with its bytes is reused; every other file is missing and must be uploaded.
engine/builds/ctxsync.py keeps the contexts and performs what is decided here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dockwright.builder.ctxindex import Entry, clean_name
from dockwright.errors import InvalidParameter

KEY = re.compile(r"[A-Za-z0-9_.-]{1,128}")
MAX_FINGERPRINT = 256
SLACK = 64 << 20  # dead spool bytes a kept context may carry before it starts over

Kept = Mapping[str, tuple[str, Entry]]  # path -> (fingerprint, the entry with its bytes)


@dataclass(frozen=True)
class Offer:
    """A client's context: the key it syncs under and its regular files' fingerprints."""

    key: str
    files: dict[str, str]


@dataclass(frozen=True)
class KeptInfo:
    """What eviction looks at for one kept context."""

    key: str
    size: int  # spool bytes on disk
    last_used: float
    users: int
    created: float = 0.0
    uses: int = 0  # offers answered


def parse_offer(body: Any) -> Offer:
    """`POST /build/context`'s body, checked: {"Key": str, "Files": {path: fingerprint}}."""
    if not isinstance(body, dict):
        raise InvalidParameter("invalid context offer: expected a JSON object")
    key, files = body.get("Key"), body.get("Files")
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise InvalidParameter(f"invalid context key {key!r}: 1-128 of [A-Za-z0-9_.-]")
    if not isinstance(files, dict):
        raise InvalidParameter("invalid context offer: Files must be an object")
    offered: dict[str, str] = {}
    for path, fingerprint in files.items():
        if not isinstance(fingerprint, str) or len(fingerprint) > MAX_FINGERPRINT:
            raise InvalidParameter(f"invalid fingerprint for {path!r} in the context offer")
        name = clean_name(path)
        if name:
            offered[name] = fingerprint
    return Offer(key, offered)


def diff(kept: Kept, files: Mapping[str, str]) -> tuple[dict[str, Entry], list[str]]:
    """(the kept entries to reuse, the sorted paths the client must upload)."""
    reused: dict[str, Entry] = {}
    missing: list[str] = []
    for path, fingerprint in files.items():
        have = kept.get(path)
        if have is not None and have[0] == fingerprint:
            reused[path] = have[1]
        else:
            missing.append(path)
    return reused, sorted(missing)


def live_bytes(kept: Kept) -> int:
    """The spool bytes the kept files still point at (a file kept under two names once)."""
    return sum({e.offset: e.size for _, e in kept.values()}.values())


def should_restart(spool_size: int, kept: Kept) -> bool:
    """Start the context over (one full upload) once most of its spool is dead bytes."""
    live = live_bytes(kept)
    dead = spool_size - live
    return dead > SLACK and dead > live


def to_evict(contexts: list[KeptInfo], max_keys: int, max_bytes: int) -> list[str]:
    """The idle contexts to delete, least recently used first, until both limits hold."""
    count, total = len(contexts), sum(c.size for c in contexts)
    gone: list[str] = []
    for c in sorted(contexts, key=lambda c: c.last_used):
        if count <= max_keys and total <= max_bytes:
            break
        if c.users:
            continue
        gone.append(c.key)
        count, total = count - 1, total - c.size
    return gone
