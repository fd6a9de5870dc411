"""The compressed blob a push sends for a layer, made once and kept.

A layer pulled or loaded as gzip (or zstd) still has that blob: it is sent as is. Otherwise the
layer's exact tar is recovered (from a kept uncompressed blob, or regenerated with `tar_diff`),
checked against the diff_id the image config names, gzipped while streaming into the content
store, and recorded for the next push.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import BinaryIO

from dockwright.distribution import manifest
from dockwright.distribution.stores import Stores
from dockwright.errors import InvalidParameter, NotFound
from dockwright.image.blobs import LayerBlob
from dockwright.image.decompress import Reader, decompressed
from dockwright.image.layers import Layer
from dockwright.image.tardiff import tar_diff
from dockwright.store.content import ContentStore
from dockwright.store.pump import ChunkReader

SENDABLE = (manifest.DOCKER_LAYER, manifest.OCI_LAYER_GZIP, manifest.OCI_LAYER_ZSTD)
CHUNK = 1 << 20


class _Checked:
    """Hashes the uncompressed tar on its way to the compressor."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks
        self.sha = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.sha.update(chunk)
            yield chunk


def gzipped(chunks: Iterable[bytes], level: int = 1) -> Iterator[bytes]:
    """A gzip stream of `chunks` (fast level: the network is usually the slower side)."""
    comp = zlib.compressobj(level, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = comp.compress(chunk)
        if out:
            yield out
    yield comp.flush()


def _read_all(reader: Reader) -> Iterator[bytes]:
    while data := reader.read(CHUNK):
        yield data


def layer_blob(stores: Stores, layer: Layer) -> LayerBlob:
    """A sendable blob for `layer` (see the module docstring); InvalidParameter if the layer
    cannot be reproduced exactly."""
    content = stores.content
    known = stores.images.blobs.find(layer.diff_id)
    for blob in known:
        if blob.media_type in SENDABLE:
            return blob
    f: BinaryIO | None = None
    if known:
        f = content.open(known[0].digest)
        source: Iterable[bytes] = _read_all(decompressed(ChunkReader(_read_all(f))))
    else:
        source = tar_diff(layer.path)
    checked = _Checked(source)
    try:
        desc = content.ingest_stream(gzipped(checked))
    finally:
        if f is not None:
            f.close()
    if "sha256:" + checked.sha.hexdigest() != layer.diff_id:
        _forget(content, desc.digest)
        raise InvalidParameter(f"layer {layer.diff_id} cannot be reproduced for push: "
                               "its contents changed or its tar was not kept")  # fmt: skip
    blob = LayerBlob(layer.diff_id, desc.digest, manifest.DOCKER_LAYER, desc.size)
    stores.images.blobs.record(blob)
    return blob


def _forget(content: ContentStore, digest: str) -> None:
    with suppress(NotFound):
        content.delete(digest)
