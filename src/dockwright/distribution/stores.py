"""The local stores a transfer reads and writes (the engine's image stack, by reference)."""

from __future__ import annotations

from dataclasses import dataclass

from dockwright.image.layers import LayerStore
from dockwright.image.store import ImageStore
from dockwright.store.content import ContentStore


@dataclass(frozen=True)
class Stores:
    content: ContentStore
    layers: LayerStore
    images: ImageStore
