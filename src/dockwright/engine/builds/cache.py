"""The build cache: step key → image id, persisted in state.db."""

from __future__ import annotations

import time

from dockwright.engine.images import ImageService
from dockwright.store.db import Database

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS build_cache (
        key TEXT PRIMARY KEY,
        image_id TEXT NOT NULL,
        created INTEGER NOT NULL
    )""",
)


class BuildCache:
    """Step key → image id in state.db; entries whose image is gone count as misses."""

    def __init__(self, db: Database, images: ImageService) -> None:
        self.db, self.images = db, images
        db.ensure_schema(SCHEMA)

    def get(self, key: str) -> str | None:
        row = self.db.query_one("SELECT image_id FROM build_cache WHERE key = ?", (key,))
        if row is None or not self.images.store.exists(row["image_id"]):
            return None
        return str(row["image_id"])

    def prune(self) -> list[str]:
        """Forget every entry (`docker builder prune`); the images stay until removed."""
        with self.db.transaction():
            keys = [str(r["key"]) for r in self.db.query("SELECT key FROM build_cache")]
            self.db.execute("DELETE FROM build_cache")
        return keys

    def put(self, key: str, image_id: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO build_cache (key, image_id, created) VALUES (?,?,?)",
            (key, image_id, time.time_ns()),
        )
