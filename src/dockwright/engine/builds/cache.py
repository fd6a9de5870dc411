"""The build cache: step key → image id, and the inputs each step was built from, in state.db.

`build_cache` maps a key to the image a step produced. `build_cache_steps` keeps, per key, the
step's recorded inputs (`StepRecord`: parent image, instruction, arguments, file digests) so a
later miss can be explained against the entries of the same parent, plus the usage figures
`system df` shows (last use, use count). The cache mounts (cachemounts.py) are the other half
of the build cache: `records` shows both as `system df` does (usage.py decides their fields).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dockwright.builder.explain import StepRecord
from dockwright.engine.builds.cachemounts import CacheMounts
from dockwright.engine.builds.ctxsync import ContextCache
from dockwright.engine.builds.usage import (
    CacheEntry,
    StepUse,
    context_records,
    mount_records,
    step_records,
    step_uses,
)
from dockwright.engine.images import ImageService
from dockwright.store.db import Database

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS build_cache (
        key TEXT PRIMARY KEY,
        image_id TEXT NOT NULL,
        created INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS build_cache_steps (
        key TEXT PRIMARY KEY,
        parent TEXT NOT NULL,
        instruction TEXT NOT NULL,
        inputs TEXT NOT NULL,
        last_used INTEGER NOT NULL,
        usage_count INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS build_cache_steps_parent ON build_cache_steps(parent)",
)


class BuildCache:
    """Step key → image id in state.db; entries whose image is gone count as misses."""

    def __init__(self, db: Database, images: ImageService, mounts: CacheMounts,
                 contexts: ContextCache | None = None) -> None:  # fmt: skip
        self.db, self.images, self.mounts, self.contexts = db, images, mounts, contexts
        db.ensure_schema(SCHEMA)
        self._running: dict[int, int] = {}  # build token -> start time (ns)
        self._tokens = itertools.count()

    @contextmanager
    def building(self) -> Iterator[None]:
        """Mark a build as running: the entries it makes or hits are in use until it ends."""
        token = next(self._tokens)
        self._running[token] = time.time_ns()
        try:
            yield
        finally:
            del self._running[token]

    def busy_since(self) -> int | None:
        """When the oldest running build started (None when none runs)."""
        return min(self._running.values(), default=None)

    def get(self, key: str) -> str | None:
        row = self.db.query_one("SELECT image_id FROM build_cache WHERE key = ?", (key,))
        if row is None or not self.images.store.exists(row["image_id"]):
            return None
        return str(row["image_id"])

    def touch(self, key: str) -> None:
        """Count a cache hit on `key` (for `system df`)."""
        self.db.execute(
            "UPDATE build_cache_steps SET last_used = ?, usage_count = usage_count + 1 "
            "WHERE key = ?",
            (time.time_ns(), key),
        )

    def forget(self, keys: list[str]) -> None:
        """Drop the entries `keys` (their images stay: `BuildService.prune_cache` removes the
        ones prune chose); one transaction."""
        rows = [(k,) for k in keys]
        with self.db.transaction():
            for table in ("build_cache", "build_cache_steps"):
                for row in rows:
                    self.db.execute(f"DELETE FROM {table} WHERE key = ?", row)

    def stale_keys(self) -> list[str]:
        """Entries whose image is gone (`rmi`, `image prune`): no record shows them, but a
        load of the same image would revive them, so every prune forgets them too."""
        rows = self.db.query("SELECT key, image_id FROM build_cache")
        exists = self.images.store.exists
        return [str(r["key"]) for r in rows if not exists(str(r["image_id"]))]

    def put(self, key: str, image_id: str, record: StepRecord | None = None) -> None:
        """Record `image_id` as the result of `key`, with the inputs that made it if known."""
        now = time.time_ns()
        with self.db.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO build_cache (key, image_id, created) VALUES (?,?,?)",
                (key, image_id, now),
            )
            if record is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO build_cache_steps (key, parent, instruction, inputs,"
                    " last_used, usage_count) VALUES (?,?,?,?,?,1)",
                    (key, record.parent, record.instruction, json.dumps(record.to_json()), now),
                )

    def records_for(self, parent: str) -> list[StepRecord]:
        """The recorded steps built on `parent`, oldest first (the candidates of a miss)."""
        rows = self.db.query(
            "SELECT s.parent, s.instruction, s.inputs FROM build_cache_steps s "
            "JOIN build_cache c ON c.key = s.key WHERE s.parent = ? ORDER BY c.created",
            (parent,),
        )
        return [
            StepRecord.from_json(r["parent"], r["instruction"], json.loads(r["inputs"]))
            for r in rows
        ]

    def entries(self) -> list[CacheEntry]:
        """Every entry whose image still exists, oldest first."""
        rows = self.db.query(
            "SELECT c.key, c.image_id, c.created, s.parent, s.instruction, s.last_used,"
            " s.usage_count FROM build_cache c LEFT JOIN build_cache_steps s ON s.key = c.key"
            " ORDER BY c.created"
        )
        return [
            CacheEntry(str(r["key"]), str(r["image_id"]), str(r["parent"] or ""),
                       str(r["instruction"] or ""), int(r["created"]),
                       int(r["last_used"] or r["created"]), int(r["usage_count"] or 1))
            for r in rows
            if self.images.store.exists(r["image_id"])
        ]  # fmt: skip

    def step_uses(self) -> list[StepUse]:
        """Every entry with its size, and whether it is shared or in use (usage.py)."""
        in_use = frozenset(self.images.images_in_use())
        return step_uses(self.entries(), self.images.list(all=True), in_use, self.busy_since())

    async def records(self) -> list[dict[str, Any]]:
        """`system df`'s BuildCache: the step entries, the cache mounts, the kept contexts."""
        mounts = await asyncio.to_thread(self.mounts.entries)
        contexts = context_records(self.contexts.infos()) if self.contexts else []
        return step_records(self.step_uses()) + mount_records(mounts, self.mounts.in_use) + contexts
