"""Build contexts kept between builds, so `dockwright build` uploads only the files that changed.

The protocol, a dockwright extension (the docker CLI never uses it; a client whose step 1 gets
404 sends the whole context as usual):
1. `POST /build/context` with {"Key": K, "Files": {path: fingerprint}} answers
   {"Session": S, "Missing": [path…]} (builder/ctxdiff.py decides what is missing);
2. `POST /build` with the header `X-Dockwright-Context-Session: S` and, as the body, a tar of the
   context's directories, symlinks and missing files (plus what the client adds, such as a
   Dockerfile read from stdin). Files offered in step 1 and not missing are the kept ones.
Per key the daemon keeps one spool file the uploads are appended to, and the index entries of
the files it holds with their fingerprints (in memory). A build reads the spool at its own index's
offsets; appending never moves earlier bytes, so builds of one key may overlap, and a spool is
started over or deleted only while no build or pending session uses it. The spools live under
the build scratch root, which the daemon empties when it starts.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockwright.builder.ctxdiff import (
    KeptInfo,
    Offer,
    diff,
    parse_offer,
    should_restart,
    to_evict,
)
from dockwright.builder.ctxindex import ContextIndex, Entry, merged
from dockwright.builder.ctxtree import LazyTree
from dockwright.engine.builds.receive import index_upload
from dockwright.errors import InvalidParameter

SESSION_TTL = 600.0  # seconds an offer waits for its build before its pin is dropped
MAX_KEYS = 16
MAX_BYTES = 4 << 30


@dataclass
class KeptContext:
    """One key's spool and the files in it: path -> (fingerprint, index entry)."""

    key: str
    spool: Path
    files: dict[str, tuple[str, Entry]] = field(default_factory=dict)
    users: int = 0  # pending sessions and running builds
    uses: int = 0  # offers answered
    created: float = field(default_factory=time.time)
    last_used: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one upload appends at a time
    generation: int = 0  # how many uploads changed `files`
    layout: dict[str, Entry] = field(default_factory=dict)  # the last upload's dirs and links
    index: ContextIndex | None = None  # the last build's, when all its files are in `files`

    def size(self) -> int:
        try:
            return self.spool.stat().st_size
        except FileNotFoundError:
            return 0

    def unchanged(self, session: Session, upload: ContextIndex) -> ContextIndex | None:
        """The last build's index when this build's context is the same: every kept file
        reused, nothing uploaded but the same directories and symlinks. Its memos (pruned,
        hashed sources) then serve this build too."""
        if session.generation != self.generation or len(session.reused) != len(self.files):
            return None
        return self.index if upload.entries == self.layout else None

    def remember(self, session: Session, upload: ContextIndex, index: ContextIndex) -> None:
        """The files the daemon now holds, from the offer's fingerprints and `index`."""
        self.files = {
            path: (fingerprint, entry)
            for path, fingerprint in session.offered.items()
            if (entry := index.entries.get(path)) is not None and entry.kind == "file"
        }
        self.generation += 1
        self.layout = {p: e for p, e in upload.entries.items() if e.kind != "file"}
        files = sum(e.kind == "file" for e in index.entries.values())
        self.index = index if files == len(self.files) else None


@dataclass
class Session:
    """An offer answered, waiting for (or used by) its build."""

    kept: KeptContext
    offered: dict[str, str]
    reused: dict[str, Entry]
    generation: int  # the kept context's when the offer was answered
    created: float
    started: bool = False


class ContextCache:
    """The kept contexts of one daemon, under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.kept: dict[str, KeptContext] = {}
        self.sessions: dict[str, Session] = {}

    async def offer_body(self, body: Any) -> tuple[str, list[str]]:
        """`POST /build/context`'s JSON body, checked (InvalidParameter; in a thread: a large
        context offers many paths), then `offer`."""
        return self.offer(await asyncio.to_thread(parse_offer, body))

    def offer(self, offer: Offer) -> tuple[str, list[str]]:
        """Step 1: (a session id, the paths to upload). Pins the key's spool until `release`."""
        self._expire()
        kept = self.kept.get(offer.key)
        if kept is None:
            self.root.mkdir(parents=True, exist_ok=True)
            kept = self.kept[offer.key] = KeptContext(offer.key, self.root / f"{offer.key}.tar")
        elif not kept.users and should_restart(kept.size(), kept.files):
            self._drop([offer.key])
            return self.offer(offer)
        reused, missing = diff(kept.files, offer.files)
        kept.users, kept.uses = kept.users + 1, kept.uses + 1
        kept.last_used = time.time()
        sid = secrets.token_hex(16)
        self.sessions[sid] = Session(kept, offer.files, reused, kept.generation, time.monotonic())
        return sid, missing

    def claim(self, sid: str) -> Session:
        """The session a build names; each is used by one build only."""
        session = self.sessions.get(sid)
        if session is None or session.started:
            raise InvalidParameter(f"unknown or used context session {sid!r}: send the context")
        session.started = True
        return session

    async def receive(
        self, session: Session, chunks: AsyncIterable[bytes], workdir: Path
    ) -> LazyTree:
        """Step 2: the build's lazy context, from the upload `chunks` and the kept files."""
        kept = session.kept
        root = workdir / "context"
        root.mkdir()
        async with kept.lock:
            base = kept.size()
            upload = await index_upload(chunks, kept.spool, append=True)
            index = kept.unchanged(session, upload)
            if index is None:
                index = await asyncio.to_thread(merged, upload, base, session.reused)
                kept.remember(session, upload, index)
        return LazyTree(root, index, kept.spool)

    def release(self, sid: str) -> None:
        """The build that claimed `sid` ended (or it never came): unpin; evict over the limits."""
        session = self.sessions.pop(sid, None)
        if session is None:
            return
        session.kept.users -= 1
        session.kept.last_used = time.time()
        self._drop(to_evict(self.infos(), MAX_KEYS, MAX_BYTES))

    def infos(self) -> list[KeptInfo]:
        """What `system df` and eviction see of each kept context."""
        return [
            KeptInfo(k.key, k.size(), k.last_used, k.users, k.created, k.uses)
            for k in self.kept.values()
        ]

    def prune(self, keys: list[str] | None = None) -> tuple[list[str], int]:
        """`builder prune`: delete the idle kept contexts (of `keys`, or all); (their keys,
        bytes freed). One a build took meanwhile stays."""
        idle = [i for i in self.infos() if not i.users and (keys is None or i.key in keys)]
        self._drop([i.key for i in idle])
        return [i.key for i in idle], sum(i.size for i in idle)

    def _drop(self, keys: list[str]) -> None:
        for key in keys:
            kept = self.kept.pop(key)
            kept.spool.unlink(missing_ok=True)

    def _expire(self) -> None:
        """Drop the pins of offers whose build never came."""
        now = time.monotonic()
        for sid, session in list(self.sessions.items()):
            if not session.started and now - session.created > SESSION_TTL:
                self.release(sid)
