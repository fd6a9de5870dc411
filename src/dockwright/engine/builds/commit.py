"""Committing a build step: the layer from a step's upper directory and the child image.

The upper directory is moved into the layer store (image/fromdir.py): it must be unmounted and
unused, and it is gone afterwards. Its tar is made once, for the blob and the diff_id.

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
from dockwright.image.fromdir import stage_dir
from dockwright.image.keep import MEDIA_BY_KIND


def commit_image(images: ImageService, state: StageState, config: dict[str, Any],
                 created_by: str, upper: Path | None) -> str:  # fmt: skip
    """Blocking: the step's image (a layer from `upper`, moved away, or metadata only when
    None)."""
    store = images.store
    diff_id = None
    layer = None
    epoch = state.epoch
    if upper is not None:
        kept = stage_dir(store.layers, store.content, upper, epoch)
        layer = store.layers.commit(kept.staged, store.get(state.image_id).top_layer)
        store.blobs.record(
            LayerBlob(layer.diff_id, kept.blob.digest, MEDIA_BY_KIND["plain"], kept.blob.size)
        )
        diff_id = layer.diff_id
    full = child_config(state.full, config, created_by, diff_id, created_time(epoch))
    try:
        return store.create(cfg.encode(full), parent=state.image_id)
    finally:
        if layer is not None and store.layers.refs(layer.chain_id) == 0:
            store.layers.acquire(layer.chain_id)
            store.layers.release(layer.chain_id)


def created_time(epoch: int | None) -> str:
    """The `created` of a step's image: SOURCE_DATE_EPOCH when set, else now."""
    if epoch == 0:
        return "1970-01-01T00:00:00Z"  # format_time reads 0 as "no time"
    if epoch is not None:
        return cfg.format_time(epoch * 1_000_000_000)
    return cfg.format_time(time.time_ns())
