"""Image metadata: images (id = digest of the config blob) and their references (tags, digests).

Tables in state.db::

    images      id, top_layer (chain id, NULL without layers), parent (local parent image id or ''),
                created (ns, from the config), size (bytes of all layers), last_tag_time (ns, 0 = never)
    image_refs  ref (normalised: docker.io/library/busybox:latest or name@sha256:…) → image_id

The config itself lives in the content store. An image holds one reference on its top layer
(which holds its parents), so layers live exactly as long as some image or container needs them.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import Any

from dockwright.errors import InvalidParameter, NotFound
from dockwright.image import config as cfg
from dockwright.image import rmi
from dockwright.image.blobs import LayerBlob, LayerBlobs
from dockwright.image.instructions import apply_changes
from dockwright.image.keep import MEDIA_BY_KIND, stage_keeping_blob
from dockwright.image.layers import Layer, LayerStore, chain_ids
from dockwright.image.reference import Reference, parse_any, parse_normalized
from dockwright.store.content import ContentStore, digest_of
from dockwright.store.db import Database
from dockwright.store.pump import consume_in_thread

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS images (
        id TEXT PRIMARY KEY,
        top_layer TEXT,
        parent TEXT NOT NULL DEFAULT '',
        created INTEGER NOT NULL,
        size INTEGER NOT NULL,
        last_tag_time INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS image_refs (
        ref TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id),
        added INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS image_refs_image ON image_refs(image_id)",
)


@dataclass(frozen=True)
class ImageRecord:
    id: str
    top_layer: str | None
    parent: str
    created_ns: int
    size: int
    last_tag_ns: int
    refs: tuple[Reference, ...]  # tags and digests, in the order they were added

    @property
    def tags(self) -> list[Reference]:
        return [r for r in self.refs if r.digest is None]

    @property
    def digests(self) -> list[Reference]:
        return [r for r in self.refs if r.digest is not None]


@dataclass(frozen=True)
class HistoryEntry:
    """One line of `docker history`, newest first; `image_id` is "<missing>" for inner steps."""

    image_id: str
    created_ns: int
    created_by: str
    tags: tuple[str, ...]
    size: int
    comment: str


@dataclass(frozen=True)
class DeleteResult:
    records: list[dict[str, str]]  # Docker's [{"Untagged": …}, {"Deleted": …}]
    untagged: list[str]  # image id of each Untagged record (for events)
    deleted: list[str]  # image ids deleted


class ImageStore:
    """Images and references over the content store (configs) and the layer store."""

    def __init__(self, db: Database, content: ContentStore, layers: LayerStore) -> None:
        self.db = db
        self.content = content
        self.layers = layers
        self._configs: dict[str, dict[str, Any]] = {}
        db.ensure_schema(SCHEMA)
        self.blobs = LayerBlobs(db, content)

    # -- creating --------------------------------------------------------------------------

    def create(self, config_bytes: bytes, parent: str = "") -> str:
        """Register an image from its config JSON; its layers must be in the layer store."""
        try:
            config = json.loads(config_bytes)
        except ValueError as exc:
            raise InvalidParameter(f"invalid image config: {exc}") from None
        if parent and not self.exists(parent):
            raise NotFound(f"No such image: {parent}")
        chains = chain_ids(cfg.diff_ids(config))
        top = chains[-1] if chains else None
        size = sum(layer.size for layer in self.layers.chain(top))
        image_id = digest_of(config_bytes)
        if self.exists(image_id):
            return image_id
        self.content.ingest(config_bytes, image_id)
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO images (id, top_layer, parent, created, size) VALUES (?,?,?,?,?)",
                (image_id, top, parent, cfg.created_ns(config), size),
            )
            if top is not None:
                self.layers.acquire(top)
        return image_id

    def import_rootfs(self, chunks: Iterable[bytes], repo_tag: str | None, changes: list[str],
                      message: str = "") -> str:  # fmt: skip
        """`docker import`: one layer from a root filesystem tar, a config, an optional tag."""
        ref = self.import_ref(repo_tag, changes)
        layer = self._unpack_keeping(chunks)
        return self._finish_import(layer, ref, changes, message)

    async def import_rootfs_async(self, chunks: AsyncIterable[bytes], repo_tag: str | None,
                                  changes: list[str], message: str = "") -> str:  # fmt: skip
        """`import_rootfs` with the tar unpacked in a worker thread as it arrives.

        The uploaded stream is kept as the layer's blob, so a push sends exactly this diff.
        """
        ref = self.import_ref(repo_tag, changes)
        layer = await consume_in_thread(chunks, self._unpack_keeping)
        return self._finish_import(layer, ref, changes, message)

    def _unpack_keeping(self, chunks: Iterable[bytes]) -> Layer:
        kept = stage_keeping_blob(self.layers, self.content, chunks)
        layer = self.layers.commit(kept.staged, None)
        media = MEDIA_BY_KIND.get(kept.kind, "")
        self.blobs.record(LayerBlob(layer.diff_id, kept.blob.digest, media, kept.blob.size))
        return layer

    @staticmethod
    def import_ref(repo_tag: str | None, changes: list[str]) -> Reference | None:
        """Validate import arguments before any byte is read (400 without unpacking)."""
        apply_changes({}, changes)
        if not repo_tag:
            return None
        ref = parse_normalized(repo_tag)
        if ref.digest is not None:
            raise InvalidParameter("cannot import digest reference")
        return ref.with_default_tag()

    def _finish_import(self, layer: Layer, ref: Reference | None, changes: list[str],
                       message: str) -> str:  # fmt: skip
        config = cfg.import_config([layer.diff_id], changes, message, time.time_ns())
        try:
            image_id = self.create(cfg.encode(config))
        finally:
            if self.layers.refs(layer.chain_id) == 0:  # failed, or nothing else took it
                self.layers.acquire(layer.chain_id)
                self.layers.release(layer.chain_id)
        if ref is not None:
            self.tag(image_id, ref)
        return image_id

    # -- reading ---------------------------------------------------------------------------

    def exists(self, image_id: str) -> bool:
        return self.db.query_one("SELECT 1 FROM images WHERE id = ?", (image_id,)) is not None

    def get(self, image_id: str) -> ImageRecord:
        row = self.db.query_one("SELECT * FROM images WHERE id = ?", (image_id,))
        if row is None:
            raise NotFound(f"No such image: {image_id}")
        return self._record(row, self.refs_of(image_id))

    def all(self) -> list[ImageRecord]:
        """Every image, newest first."""
        refs: dict[str, list[Reference]] = {}
        for r in self.db.query("SELECT ref, image_id FROM image_refs ORDER BY added, ref"):
            refs.setdefault(r["image_id"], []).append(parse_normalized(r["ref"]))
        rows = self.db.query("SELECT * FROM images ORDER BY created DESC, id")
        return [self._record(row, refs.get(row["id"], [])) for row in rows]

    def config(self, image_id: str) -> dict[str, Any]:
        """The image's OCI config JSON (immutable, so cached)."""
        if image_id not in self._configs:
            if not self.exists(image_id):
                raise NotFound(f"No such image: {image_id}")
            self._configs[image_id] = json.loads(self.content.read(image_id))
        return self._configs[image_id]

    def refs_of(self, image_id: str) -> list[Reference]:
        rows = self.db.query(
            "SELECT ref FROM image_refs WHERE image_id = ? ORDER BY added, ref", (image_id,)
        )
        return [parse_normalized(r["ref"]) for r in rows]

    def children(self, image_id: str) -> list[str]:
        return [
            r["id"] for r in self.db.query("SELECT id FROM images WHERE parent = ?", (image_id,))
        ]

    def layers_of(self, image_id: str) -> list[Layer]:
        """The image's layers, top first."""
        return self.layers.chain(self.get(image_id).top_layer)

    @staticmethod
    def _record(row: Any, refs: list[Reference]) -> ImageRecord:
        return ImageRecord(
            row["id"], row["top_layer"], row["parent"], row["created"], row["size"],
            row["last_tag_time"], tuple(refs),
        )  # fmt: skip

    # -- resolving -------------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        """The image id `name` means: a reference, a full id, or a unique id prefix (with or
        without ``sha256:``). NotFound "No such image: …" otherwise (also when ambiguous)."""
        ref = parse_any(name)
        if isinstance(ref, str):
            if self.exists(ref):
                return ref
            raise NotFound(f"No such image: {ref}")
        tagged = ref.with_default_tag()
        row = self.db.query_one("SELECT image_id FROM image_refs WHERE ref = ?", (str(tagged),))
        if row is not None:
            return str(row["image_id"])
        found = self._search(name)
        if found is None:
            raise NotFound(f"No such image: {tagged.familiar()}")
        return found

    def _search(self, term: str) -> str | None:
        hex_ = term.removeprefix("sha256:")
        if not hex_ or any(c not in "0123456789abcdef" for c in hex_):
            return None
        rows = self.db.query("SELECT id FROM images WHERE id LIKE ? LIMIT 2", (f"sha256:{hex_}%",))
        return str(rows[0]["id"]) if len(rows) == 1 else None

    # -- references ------------------------------------------------------------------------

    def tag(self, image_id: str, ref: Reference) -> str | None:
        """Point `ref` (tag defaulted) at the image; returns the image it pointed at before."""
        ref = ref.with_default_tag()
        now = time.time_ns()
        with self.db.transaction():
            old = self.db.query_one("SELECT image_id FROM image_refs WHERE ref = ?", (str(ref),))
            self.db.execute(
                "INSERT OR REPLACE INTO image_refs (ref, image_id, added) VALUES (?,?,?)",
                (str(ref), image_id, now),
            )
            self.db.execute("UPDATE images SET last_tag_time = ? WHERE id = ?", (now, image_id))
        return None if old is None or old["image_id"] == image_id else str(old["image_id"])

    def untag(self, ref: Reference) -> bool:
        return bool(self.db.execute("DELETE FROM image_refs WHERE ref = ?", (str(ref),)))

    # -- deleting --------------------------------------------------------------------------

    def graph(self, users: dict[str, list[tuple[str, bool]]]) -> rmi.ImageGraph:
        parents = {r["id"]: r["parent"] for r in self.db.query("SELECT id, parent FROM images")}
        refs: dict[str, list[Reference]] = {i: [] for i in parents}
        for r in self.db.query("SELECT ref, image_id FROM image_refs ORDER BY added, ref"):
            refs.setdefault(r["image_id"], []).append(parse_normalized(r["ref"]))
        return rmi.ImageGraph(refs, parents, users)

    def delete(self, name: str, users: dict[str, list[tuple[str, bool]]], force: bool = False,
               prune: bool = True) -> DeleteResult:  # fmt: skip
        """`docker rmi`: plan with `rmi.plan_delete`, then apply the plan in one transaction.

        Released layer directories are moved to trash; call `layers.sweep()` off the loop.
        """
        image_id = self.resolve(name)
        steps = rmi.plan_delete(self.graph(users), image_id, name, force, prune)
        result = DeleteResult([], [], [])
        with self.db.transaction():
            for step in steps:
                self._apply(step, result)
        for image in result.deleted:
            self._configs.pop(image, None)
            if self.content.has(image):
                self.content.delete(image)
        if result.deleted:
            self.blobs.prune()
        return result

    def _apply(self, step: rmi.Step, result: DeleteResult) -> None:
        if isinstance(step, rmi.Untag):
            self.untag(step.ref)
            result.records.append({"Untagged": step.ref.familiar()})
            result.untagged.append(step.image_id)
            return
        top = self.get(step.image_id).top_layer
        self.db.execute("DELETE FROM images WHERE id = ?", (step.image_id,))
        result.records.append({"Deleted": step.image_id})
        result.deleted.append(step.image_id)
        if top is not None:
            result.records.extend({"Deleted": chain} for chain in self.layers.release(top))

    # -- history ---------------------------------------------------------------------------

    def history(self, image_id: str) -> list[HistoryEntry]:
        """The image's build history, newest first (Docker's ImageHistory)."""
        config = self.config(image_id)
        diff_ids = cfg.diff_ids(config)
        sizes = {layer.diff_id: layer.size for layer in self.layers_of(image_id)}
        entries: list[HistoryEntry] = []
        layer_index = 0
        for h in config.get("history") or []:
            size = 0
            if not h.get("empty_layer") and layer_index < len(diff_ids):
                size = sizes.get(diff_ids[layer_index], 0)
                layer_index += 1
            created = cfg.created_ns({"created": h.get("created")})
            entries.insert(0, HistoryEntry("<missing>", created, h.get("created_by", ""), (),
                                           size, h.get("comment", "")))  # fmt: skip
        return self._label_history(image_id, entries)

    def _label_history(self, image_id: str, entries: list[HistoryEntry]) -> list[HistoryEntry]:
        """Give the newest entries the ids and tags of the image and its local parents."""
        out = list(entries)
        current = image_id
        for i, entry in enumerate(out):
            tags = tuple(r.familiar() for r in self.refs_of(current) if r.digest is None)
            out[i] = HistoryEntry(current, entry.created_ns, entry.created_by, tags, entry.size,
                                  entry.comment)  # fmt: skip
            parent = self.get(current).parent
            if not parent or not self.exists(parent):
                break
            current = parent
        return out
