"""Committing a build step: the layer from a step's upper directory and the child image.

The upper directory is moved into the layer store (image/fromdir.py): it must be unmounted and
unused, and it is gone afterwards. Its tar is made once, for the blob and the diff_id; in a
build with a blob queue (`state.blobs`, blobqueue.py) the blob reaches the content store behind
the build, so the next step does not wait for its fsync.

With SOURCE_DATE_EPOCH (`state.epoch`), the image and its new history entry are dated at the
epoch and the layer's mtimes are clamped to it: nothing of the wall clock reaches the image, so
two cold builds of the same Dockerfile and context give the same image id.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dockwright.builder.history import child_config
from dockwright.engine.builds.state import StageState
from dockwright.engine.images import ImageService
from dockwright.image import config as cfg
from dockwright.image.blobs import LayerBlob
from dockwright.image.fromdir import Spooled, stage_dir, stage_dir_spooled
from dockwright.image.keep import MEDIA_BY_KIND
from dockwright.image.layers import Layer
from dockwright.image.store import ImageStore


def commit_image(images: ImageService, state: StageState, config: dict[str, Any],
                 created_by: str, upper: Path | None) -> str:  # fmt: skip
    """Blocking: the step's image (a layer from `upper`, moved away, or metadata only when
    None)."""
    store = images.store
    layer = None if upper is None else _commit_layer(store, state, upper)
    diff_id = None if layer is None else layer.diff_id
    full = child_config(state.full, config, created_by, diff_id, created_time(state.epoch))
    try:
        return store.create(cfg.encode(full), parent=state.image_id)
    finally:
        if layer is not None and store.layers.refs(layer.chain_id) == 0:
            store.layers.acquire(layer.chain_id)
            store.layers.release(layer.chain_id)


def _commit_layer(store: ImageStore, state: StageState, upper: Path) -> Layer:
    """The layer of `upper` on the stage's image; its blob now, or queued on `state.blobs`."""
    parent = store.get(state.image_id).top_layer
    if state.blobs is None:
        kept = stage_dir(store.layers, store.content, upper, state.epoch)
        layer = store.layers.commit(kept.staged, parent)
        _record(store, layer, kept.blob.digest, kept.blob.size)
        return layer
    spooled = stage_dir_spooled(store.layers, store.content, upper, state.epoch)
    try:
        layer = store.layers.commit(spooled.kept.staged, parent)
    except BaseException:
        spooled.discard()
        raise
    state.blobs.submit(lambda: _ingest(store, layer, spooled))
    return layer


def _ingest(store: ImageStore, layer: Layer, spooled: Spooled) -> None:
    """Blocking, in the blob queue's thread: the blob into the content store, then recorded."""
    blob = spooled.ingest(store.content)
    _record(store, layer, blob.digest, blob.size)


def _record(store: ImageStore, layer: Layer, digest: str, size: int) -> None:
    store.blobs.record(LayerBlob(layer.diff_id, digest, MEDIA_BY_KIND["plain"], size))


def created_time(epoch: int | None) -> str:
    """The `created` of a step's image: SOURCE_DATE_EPOCH when set, else now."""
    if epoch == 0:
        return "1970-01-01T00:00:00Z"  # format_time reads 0 as "no time"
    if epoch is not None:
        return cfg.format_time(epoch * 1_000_000_000)
    return cfg.format_time(time.time_ns())
