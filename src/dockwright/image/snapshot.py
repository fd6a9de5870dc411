"""Container root filesystems as overlayfs snapshots of an image — returned as data, never mounted.

Layout (``<data-root>/containers/<cid>/``; the rest of that directory belongs to the runtime)::

    upper/    the container's writable layer
    work/     overlayfs' work directory (same filesystem as upper)
    merged/   the mount point

`prepare` makes those directories, records the snapshot (table `snapshots`) and takes a reference
on the image's top layer, so the layers outlive even a forced `rmi` of the image. It returns a
`MountPlan`; the engine mounts it (kernel/mount.py). `remove` undoes `prepare` once unmounted.

Overlayfs takes lowerdirs top first. The mount data is limited to one page, which bounds the number
of layers with these path lengths to about 60; shortening paths is future work.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from dockwright.errors import Conflict, NotFound, SystemError_
from dockwright.image.fstree import Change, changes
from dockwright.image.layers import LayerStore
from dockwright.image.safefs import remove_tree
from dockwright.image.store import ImageStore
from dockwright.image.topdir import mark_top_dir
from dockwright.store.db import Database

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS snapshots (
        cid TEXT PRIMARY KEY,
        image_id TEXT NOT NULL,
        top_layer TEXT,
        created INTEGER NOT NULL
    )""",
)
SUBDIRS = ("upper", "work", "merged")


@dataclass(frozen=True)
class MountPlan:
    """One overlay mount: ``mount -t overlay overlay -o <options> <target>``."""

    lowerdirs: tuple[Path, ...]  # top layer first
    upperdir: Path
    workdir: Path
    target: Path

    @property
    def options(self) -> str:
        lower = ":".join(str(p) for p in self.lowerdirs)
        return f"lowerdir={lower},upperdir={self.upperdir},workdir={self.workdir}"


class Snapshotter:
    """Per-container overlay directories over the layer store."""

    def __init__(self, db: Database, root: Path, layers: LayerStore, images: ImageStore) -> None:
        self.db = db
        self.root = root  # <data-root>/containers
        self.layers = layers
        self.images = images
        db.ensure_schema(SCHEMA)
        mark_top_dir(root)  # containers' upper dirs spread over the disk (topdir.py)

    def container_dir(self, cid: str) -> Path:
        return self.root / cid

    def upper_dir(self, cid: str) -> Path:
        return self.root / cid / "upper"

    def prepare(self, image_id: str, cid: str) -> MountPlan:
        """Make the container's snapshot of `image_id`; Conflict if `cid` already has one."""
        top = self.images.get(image_id).top_layer
        if self._row(cid) is not None:
            raise Conflict(f"snapshot for container {cid} already exists")
        base = self.container_dir(cid)
        base.mkdir(parents=True, exist_ok=True)
        try:
            for sub in SUBDIRS:
                (base / sub).mkdir(mode=0o755)
            with self.db.transaction():
                self.db.execute(
                    "INSERT INTO snapshots (cid, image_id, top_layer, created) VALUES (?,?,?,?)",
                    (cid, image_id, top, time.time_ns()),
                )
                if top is not None:
                    self.layers.acquire(top)
        except BaseException:
            self._remove_dirs(cid)
            raise
        return self.plan(cid)

    def plan(self, cid: str) -> MountPlan:
        """The mount plan of an existing snapshot (e.g. to mount again after a daemon restart)."""
        base = self.container_dir(cid)
        return MountPlan(
            tuple(self.lower_dirs(cid)), base / "upper", base / "work", base / "merged"
        )

    def lower_dirs(self, cid: str) -> list[Path]:
        row = self._row(cid)
        if row is None:
            raise NotFound(f"no snapshot for container {cid}")
        chain = self.layers.chain(row["top_layer"])
        return [layer.path for layer in chain] or [self.layers.empty_dir]

    def image_of(self, cid: str) -> str:
        row = self._row(cid)
        if row is None:
            raise NotFound(f"no snapshot for container {cid}")
        return str(row["image_id"])

    def changes(self, cid: str) -> list[Change]:
        """`docker diff` of the container (works mounted or not)."""
        return changes(self.upper_dir(cid), self.lower_dirs(cid))

    def remove(self, cid: str) -> None:
        """Delete the snapshot (blocking). The caller has unmounted it. Idempotent."""
        row = self._row(cid)
        self._remove_dirs(cid)
        if row is None:
            return
        with self.db.transaction():
            self.db.execute("DELETE FROM snapshots WHERE cid = ?", (cid,))
            if row["top_layer"] is not None:
                self.layers.release(row["top_layer"])
        self.layers.sweep()

    def all(self) -> list[str]:
        return [r["cid"] for r in self.db.query("SELECT cid FROM snapshots ORDER BY created")]

    def _row(self, cid: str) -> sqlite3.Row | None:
        return self.db.query_one("SELECT * FROM snapshots WHERE cid = ?", (cid,))

    def _remove_dirs(self, cid: str) -> None:
        base = self.container_dir(cid)
        if os.path.ismount(base / "merged"):  # deleting through a mount would empty the layers
            raise SystemError_(f"snapshot of container {cid} is still mounted")
        for sub in SUBDIRS:
            remove_tree(base / sub)
        try:
            os.rmdir(base)  # only if nothing else (the runtime's bundle) is left in it
        except OSError:
            pass
