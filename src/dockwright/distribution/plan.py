"""What a pull must fetch and what a push must send, decided before any byte moves. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from dockwright.distribution.manifest import FOREIGN_LAYERS, LAYERS, Descriptor, Manifest
from dockwright.errors import InvalidParameter
from dockwright.image.layers import chain_id


@dataclass(frozen=True)
class LayerStep:
    """One layer of a pull: fetch `blob` (unless present) and commit it as `chain` on `parent`."""

    index: int
    blob: Descriptor
    diff_id: str
    chain: str
    parent: str | None
    present: bool


def plan_pull(manifest: Manifest, diff_ids: list[str],
              has_layer: Callable[[str], bool]) -> list[LayerStep]:  # fmt: skip
    """The layers of `manifest` base first, each marked present when its chain exists.

    InvalidParameter when the manifest and the config disagree on the number of layers or a
    layer's media type is not one we can unpack.
    """
    if len(manifest.layers) != len(diff_ids):
        raise InvalidParameter(
            f"invalid image: manifest has {len(manifest.layers)} layers, "
            f"config has {len(diff_ids)} diff_ids"
        )
    steps: list[LayerStep] = []
    parent: str | None = None
    for i, (blob, diff_id) in enumerate(zip(manifest.layers, diff_ids, strict=True)):
        if blob.media_type and blob.media_type not in LAYERS:
            raise InvalidParameter(f"unsupported layer media type {blob.media_type!r}")
        if blob.media_type in FOREIGN_LAYERS and not blob.digest:
            raise InvalidParameter("foreign layer without digest")
        chain = chain_id(parent, diff_id)
        steps.append(LayerStep(i, blob, diff_id, chain, parent, has_layer(chain)))
        parent = chain
    return steps


def check_bytes(data: bytes, digest: str, what: str) -> None:
    """InvalidParameter when `data` does not hash to `digest`."""
    got = "sha256:" + hashlib.sha256(data).hexdigest()
    if got != digest:
        raise InvalidParameter(f"{what} digest mismatch: expected {digest}, got {got}")
