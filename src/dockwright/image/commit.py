"""`docker commit`: a container's upper directory becomes a layer on top of its image.

`commit_config` (pure) builds the new image config from the parent's and the container's
settings, with `--change` lines applied; `commit_image` (act) turns the upper directory into a
layer with `tar_diff` (the tar is kept as the layer's blob, so the image can be pushed and saved
exactly) and registers the image with its parent.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dockwright.image import config as cfg
from dockwright.image.blobs import LayerBlob
from dockwright.image.instructions import apply_changes
from dockwright.image.keep import MEDIA_BY_KIND, stage_keeping_blob
from dockwright.image.store import ImageStore
from dockwright.image.tardiff import tar_diff
from dockwright.types.container import ContainerConfig
from dockwright.types.system import ENGINE_VERSION


def image_config_of(c: ContainerConfig) -> dict[str, Any]:
    """The image `config` section a container's settings give (Docker's PascalCase form)."""
    out: dict[str, Any] = {
        "Cmd": list(c.cmd) if c.cmd is not None else None,
        "Entrypoint": list(c.entrypoint) if c.entrypoint is not None else None,
        "Env": list(c.env) or None,
        "WorkingDir": c.working_dir,
        "User": c.user,
        "Labels": dict(c.labels) or None,
        "ExposedPorts": {p: {} for p in c.exposed_ports} or None,
        "Volumes": {v: {} for v in c.volumes} or None,
        "OnBuild": list(c.on_build) or None,
    }
    if c.stop_signal:
        out["StopSignal"] = c.stop_signal
    if c.shell:
        out["Shell"] = list(c.shell)
    return {k: v for k, v in out.items() if v not in (None, "")}


def commit_config(parent: dict[str, Any], container: dict[str, Any], diff_id: str,
                  changes: list[str], comment: str, author: str, container_id: str,
                  created_ns: int) -> dict[str, Any]:  # fmt: skip
    """The committed image's config: the parent's rootfs plus the new diff, one more history
    entry, and the container's settings with `changes` applied."""
    created = cfg.format_time(created_ns)
    history = list(parent.get("history") or [])
    entry: dict[str, Any] = {"created": created, "created_by": " ".join(container.get("Cmd") or [])}
    if author:
        entry["author"] = author
    if comment:
        entry["comment"] = comment
    out: dict[str, Any] = {
        "architecture": parent.get("architecture") or cfg.host_arch(),
        "os": parent.get("os") or "linux",
        "config": apply_changes(container, changes),
        "container": container_id,
        "created": created,
        "docker_version": ENGINE_VERSION,
        "history": [*history, entry],
        "rootfs": {"type": "layers", "diff_ids": [*cfg.diff_ids(parent), diff_id]},
    }
    if parent.get("variant"):
        out["variant"] = parent["variant"]
    if author:
        out["author"] = author
    if comment:
        out["comment"] = comment
    return out


def commit_image(store: ImageStore, parent_id: str, upper: Path, container: ContainerConfig,
                 container_id: str, changes: list[str], comment: str = "",
                 author: str = "") -> str:  # fmt: skip
    """Blocking: layer from `upper`, config, image (parent `parent_id`); returns the image id."""
    apply_changes({}, changes)  # refuse bad changes before any work
    kept = stage_keeping_blob(store.layers, store.content, tar_diff(upper))
    layer = store.layers.commit(kept.staged, store.get(parent_id).top_layer)
    store.blobs.record(LayerBlob(layer.diff_id, kept.blob.digest, MEDIA_BY_KIND["plain"],
                                 kept.blob.size))  # fmt: skip
    config = commit_config(store.config(parent_id), image_config_of(container), layer.diff_id,
                           changes, comment, author, container_id, time.time_ns())  # fmt: skip
    try:
        return store.create(cfg.encode(config), parent=parent_id)
    finally:
        if store.layers.refs(layer.chain_id) == 0:
            store.layers.acquire(layer.chain_id)
            store.layers.release(layer.chain_id)
