"""The layer store: unpacked layer diffs, shared by every image (and container) that uses them.

Layout under ``<data-root>/layers``::

    <dir-id>/diff        an unpacked layer (whiteouts in overlayfs form); dir-id is random hex
    .tmp-<dir-id>/diff   an extraction in flight (swept by `recover()`)
    .trash-<dir-id>      a released layer waiting to be deleted (`sweep()`, off the event loop)
    empty/               the lower dir of images without layers

A layer is named by its chain id (OCI): the diff_id itself for a base layer, else
sha256("<parent chain id> <diff_id>"). The same chain is unpacked only once; an identical layer
applied again is recognised from its diff_id and the second copy discarded. Layers are reference
counted: each image holds its top layer, each layer its parent, each container snapshot the top
layer of its image; the last release removes the layer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import sqlite3
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dockwright.errors import NotFound
from dockwright.image.extract import extract
from dockwright.image.fstree import tree_size
from dockwright.image.safefs import remove_tree
from dockwright.image.topdir import mark_top_dir
from dockwright.store.db import Database
from dockwright.store.pump import consume_in_thread

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS layers (
        chain_id TEXT PRIMARY KEY,
        diff_id TEXT NOT NULL,
        parent TEXT REFERENCES layers(chain_id),
        size INTEGER NOT NULL,
        dir TEXT NOT NULL UNIQUE,
        refs INTEGER NOT NULL DEFAULT 0
    )""",
)

log = logging.getLogger(__name__)
_DIR_ID = re.compile(r"^[0-9a-f]{32}$")
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"


def chain_id(parent: str | None, diff_id: str) -> str:
    """The OCI ChainID of `diff_id` on top of the chain `parent` (pure)."""
    if parent is None:
        return diff_id
    return "sha256:" + hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest()


def chain_ids(diff_ids: Iterable[str]) -> list[str]:
    """The chain id of every prefix of `diff_ids` (bottom layer first)."""
    out: list[str] = []
    for diff_id in diff_ids:
        out.append(chain_id(out[-1] if out else None, diff_id))
    return out


@dataclass(frozen=True)
class Layer:
    chain_id: str
    diff_id: str
    parent: str | None
    size: int
    dir_id: str
    path: Path  # the diff directory, an overlayfs lowerdir


@dataclass(frozen=True)
class Staged:
    """An unpacked diff waiting in a temporary directory to be committed on a parent."""

    tmp: Path
    dir_id: str
    diff_id: str
    size: int


class LayerStore:
    """Layers in state.db (table `layers`) and under ``<data-root>/layers``."""

    def __init__(self, db: Database, root: Path, *, chown: bool | None = None) -> None:
        self.db = db
        self.root = root
        self.chown = os.geteuid() == 0 if chown is None else chown
        root.mkdir(parents=True, exist_ok=True)
        mark_top_dir(root)  # layer directories spread over the disk (topdir.py says why)
        self.empty_dir.mkdir(mode=0o755, exist_ok=True)
        db.ensure_schema(SCHEMA)

    @property
    def empty_dir(self) -> Path:
        """An always-empty directory: the lowerdir of an image with no layers."""
        return self.root / "empty"

    def diff_path(self, dir_id: str) -> Path:
        return self.root / dir_id / "diff"

    # -- queries ---------------------------------------------------------------------------

    def get(self, chain: str) -> Layer:
        row = self.db.query_one("SELECT * FROM layers WHERE chain_id = ?", (chain,))
        if row is None:
            raise NotFound(f"no such layer: {chain}")
        return self._layer(row)

    def has(self, chain: str) -> bool:
        return self.db.query_one("SELECT 1 FROM layers WHERE chain_id = ?", (chain,)) is not None

    def chain(self, top: str | None) -> list[Layer]:
        """The layers from `top` down to its base (top first: overlayfs lowerdir order)."""
        out: list[Layer] = []
        while top is not None:
            layer = self.get(top)
            out.append(layer)
            top = layer.parent
        return out

    def all(self) -> list[Layer]:
        return [self._layer(r) for r in self.db.query("SELECT * FROM layers ORDER BY chain_id")]

    def refs(self, chain: str) -> int:
        row = self.db.query_one("SELECT refs FROM layers WHERE chain_id = ?", (chain,))
        if row is None:
            raise NotFound(f"no such layer: {chain}")
        return int(row["refs"])

    def _layer(self, row: sqlite3.Row) -> Layer:
        return Layer(
            row["chain_id"], row["diff_id"], row["parent"], row["size"], row["dir"],
            self.diff_path(row["dir"]),
        )  # fmt: skip

    # -- registering layers ----------------------------------------------------------------

    def apply(self, chunks: Iterable[bytes], parent: str | None = None) -> Layer:
        """Unpack a layer tar (plain or compressed) on top of `parent`; blocking.

        The tar goes to a temporary directory that is renamed into place only when complete;
        on any error nothing remains. If the resulting chain already exists, the existing layer
        is returned and the new copy discarded. The new layer has no references yet: the caller
        (an image being created) takes one with `acquire`.
        """
        if parent is not None:
            self.get(parent)
        return self.commit(self.stage(chunks), parent)

    def stage(self, chunks: Iterable[bytes]) -> Staged:
        """Unpack a layer tar into a temporary directory, not yet part of any chain.

        A diff does not depend on its parent's contents, so layers can be staged in parallel
        (as they download) and committed in order. The caller commits or discards the result.
        """
        dir_id = secrets.token_hex(16)
        tmp = self.root / (TMP_PREFIX + dir_id)
        (tmp / "diff").mkdir(parents=True)
        try:
            result = extract(chunks, tmp / "diff", chown=self.chown)
            return Staged(tmp, dir_id, result.diff_id, tree_size(tmp / "diff"))
        except BaseException:
            _discard(tmp)
            raise

    def reserve(self) -> tuple[Path, str]:
        """A new, empty staging directory and its dir id, for a diff that arrives by rename
        (see `fromdir.stage_dir`); the caller fills ``<tmp>/diff``, then commits or discards.
        Never committed, it is swept by `recover()` like an interrupted extraction."""
        dir_id = secrets.token_hex(16)
        tmp = self.root / (TMP_PREFIX + dir_id)
        tmp.mkdir()
        return tmp, dir_id

    def commit(self, staged: Staged, parent: str | None) -> Layer:
        """Register a staged diff on top of `parent` (an existing identical chain wins)."""
        try:
            chain = chain_id(parent, staged.diff_id)
            return self._commit(staged.tmp, staged.dir_id, chain, staged.diff_id, parent,
                                staged.size)  # fmt: skip
        except BaseException:
            _discard(staged.tmp)
            raise

    @staticmethod
    def discard(staged: Staged) -> None:
        """Drop a staged diff that will not be committed."""
        _discard(staged.tmp)

    async def apply_async(self, chunks: AsyncIterable[bytes], parent: str | None = None) -> Layer:
        """`apply` fed from an async source (e.g. a request body), run in a worker thread."""
        return await consume_in_thread(chunks, lambda it: self.apply(it, parent))

    def _commit(
        self, tmp: Path, dir_id: str, chain: str, diff_id: str, parent: str | None, size: int
    ) -> Layer:
        if self.has(chain):
            _discard(tmp)
            return self.get(chain)
        final = self.root / dir_id
        os.rename(tmp, final)
        try:
            with self.db.transaction():
                self.db.execute(
                    "INSERT INTO layers (chain_id, diff_id, parent, size, dir) VALUES (?,?,?,?,?)",
                    (chain, diff_id, parent, size, dir_id),
                )
                if parent is not None:
                    self._add_ref(parent, 1)
        except sqlite3.IntegrityError:  # the same layer was committed concurrently
            _discard(final)
            return self.get(chain)
        except BaseException:
            _discard(final)
            raise
        return Layer(chain, diff_id, parent, size, dir_id, self.diff_path(dir_id))

    # -- reference counting ----------------------------------------------------------------

    def acquire(self, chain: str) -> None:
        """Take a reference on a layer (an image or a snapshot now depends on it)."""
        with self.db.transaction():
            self._add_ref(chain, 1)

    def release(self, chain: str) -> list[str]:
        """Drop a reference; layers left unreferenced are removed (parents too, recursively).

        Returns the chain ids removed. Their directories are renamed to trash at once and
        deleted by `sweep()`, which the caller runs off the event loop.
        """
        removed: list[Layer] = []
        with self.db.transaction():
            current: str | None = chain
            while current is not None and self._add_ref(current, -1) == 0:
                layer = self.get(current)
                self.db.execute("DELETE FROM layers WHERE chain_id = ?", (current,))
                removed.append(layer)
                current = layer.parent
        for layer in removed:
            _rename_quiet(self.root / layer.dir_id, self.root / (TRASH_PREFIX + layer.dir_id))
        return [layer.chain_id for layer in removed]

    def _add_ref(self, chain: str, delta: int) -> int:
        if not self.db.execute(
            "UPDATE layers SET refs = refs + ? WHERE chain_id = ?", (delta, chain)
        ):
            raise NotFound(f"no such layer: {chain}")
        return self.refs(chain)

    # -- housekeeping ----------------------------------------------------------------------

    def sweep(self) -> None:
        """Delete released layer directories (blocking; run in a thread)."""
        for entry in os.scandir(self.root):
            if entry.name.startswith(TRASH_PREFIX):
                _discard(Path(entry.path))

    def recover(self) -> list[str]:
        """At daemon start: remove interrupted extractions, trash, directories no row names,
        and layers nothing references. Returns the chain ids removed."""
        known = {layer.dir_id for layer in self.all()}
        for entry in os.scandir(self.root):
            stale = entry.name.startswith((TMP_PREFIX, TRASH_PREFIX))
            if stale or (_DIR_ID.match(entry.name) and entry.name not in known):
                _discard(Path(entry.path))
        removed: list[str] = []
        for row in self.db.query("SELECT chain_id FROM layers WHERE refs <= 0"):
            if self.has(row["chain_id"]):
                self._add_ref(row["chain_id"], 1)
                removed += self.release(row["chain_id"])
        self.sweep()
        return removed

    def usage(self) -> dict[str, int]:
        """chain id → size in bytes of that layer's own diff (for `system df`)."""
        return {
            r["chain_id"]: r["size"] for r in self.db.query("SELECT chain_id, size FROM layers")
        }


def _discard(path: Path) -> None:
    """Best-effort removal of a directory that is no longer wanted (logged, never raised)."""
    try:
        remove_tree(path)
    except OSError as exc:
        log.warning("cannot remove %s: %s", path, exc)


def _rename_quiet(src: Path, dst: Path) -> None:
    try:
        os.rename(src, dst)
    except FileNotFoundError:
        pass
