"""Which compressed blobs carry which layer diff: kept so push and save reproduce a layer exactly.

A layer's directory cannot be turned back into the very tar it came from, and the image config
names that tar's digest (diff_id). So the blob a layer was pulled, loaded or imported from stays
in the content store, and this table says which diff_id it decompresses to::

    layer_blobs   diff_id, digest (the blob, as a registry names it), media_type, size
    blob_sources  digest, repository (domain/path) known to hold it: a push to another
                  repository of that registry mounts it from there instead of uploading

Rows of diff_ids no layer has any more are dropped, with their blobs, by `prune`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockwright.store.content import ContentStore
from dockwright.store.db import Database

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS layer_blobs (
        diff_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        media_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (diff_id, digest)
    )""",
    """CREATE TABLE IF NOT EXISTS blob_sources (
        digest TEXT NOT NULL,
        repository TEXT NOT NULL,
        PRIMARY KEY (digest, repository)
    )""",
)


@dataclass(frozen=True)
class LayerBlob:
    diff_id: str
    digest: str
    media_type: str
    size: int


class LayerBlobs:
    """The diff_id → blob table over the content store."""

    def __init__(self, db: Database, content: ContentStore) -> None:
        self.db = db
        self.content = content
        db.ensure_schema(SCHEMA)

    def record(self, blob: LayerBlob) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO layer_blobs (diff_id, digest, media_type, size) "
            "VALUES (?,?,?,?)",
            (blob.diff_id, blob.digest, blob.media_type, blob.size),
        )

    def find(self, diff_id: str) -> list[LayerBlob]:
        """Blobs known to carry `diff_id` and still present, compressed ones first."""
        rows = self.db.query(
            "SELECT * FROM layer_blobs WHERE diff_id = ? ORDER BY digest = diff_id, digest",
            (diff_id,),
        )
        found = [LayerBlob(r["diff_id"], r["digest"], r["media_type"], r["size"]) for r in rows]
        return [b for b in found if self.content.has(b.digest)]

    def add_source(self, digest: str, repository: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO blob_sources (digest, repository) VALUES (?,?)",
            (digest, repository),
        )

    def sources(self, digest: str) -> list[str]:
        """Repositories (domain/path) known to hold `digest`, oldest knowledge first."""
        rows = self.db.query(
            "SELECT repository FROM blob_sources WHERE digest = ? ORDER BY rowid", (digest,)
        )
        return [r["repository"] for r in rows]

    def prune(self) -> list[str]:
        """Forget blobs of diffs no layer has; delete them from the content store."""
        rows = self.db.query(
            "SELECT DISTINCT digest FROM layer_blobs WHERE diff_id NOT IN "
            "(SELECT diff_id FROM layers)"
        )
        self.db.execute("DELETE FROM layer_blobs WHERE diff_id NOT IN (SELECT diff_id FROM layers)")
        self.db.execute(
            "DELETE FROM blob_sources WHERE digest NOT IN (SELECT digest FROM layer_blobs)"
        )
        gone = []
        for r in rows:
            digest = r["digest"]
            still = self.db.query_one("SELECT 1 FROM layer_blobs WHERE digest = ?", (digest,))
            if still is None and self.content.has(digest):
                self.content.delete(digest)
                gone.append(digest)
        return gone
