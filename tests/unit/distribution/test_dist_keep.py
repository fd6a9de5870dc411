"""Unpacking a layer while keeping its blob: both verified, nothing left behind on failure."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile

import pytest
import zstandard

from dockwright.distribution.blobsource import gzipped, layer_blob
from dockwright.distribution.stores import Stores
from dockwright.errors import InvalidParameter
from dockwright.image.blobs import LayerBlob
from dockwright.image.keep import stage_keeping_blob
from dockwright.image.layers import LayerStore
from dockwright.image.store import ImageStore
from dockwright.store.content import ContentStore
from dockwright.store.db import Database

pytestmark = pytest.mark.unit


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uname = len(data), 0o644, "someone"
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def stores(tmp_path):
    db = Database(tmp_path / "state.db")
    content = ContentStore(tmp_path / "content")
    layers = LayerStore(db, tmp_path / "layers", chown=False)
    yield Stores(content, layers, ImageStore(db, content, layers))
    db.close()


def pieces(data: bytes, n: int = 7) -> list[bytes]:
    return [data[i : i + n] for i in range(0, len(data), n)]


def leftovers(stores: Stores) -> list[str]:
    ingest = os.listdir(stores.content.root / "ingest")
    return ingest + [e for e in os.listdir(stores.layers.root) if e != "empty"]


def test_gzip_layer_is_unpacked_and_its_blob_kept(stores: Stores) -> None:
    tar = tar_of({"etc/motd": b"hello\n"})
    blob = gzip.compress(tar)
    kept = stage_keeping_blob(stores.layers, stores.content, pieces(blob), sha(blob), len(blob))
    assert kept.kind == "gzip" and kept.staged.diff_id == sha(tar)
    assert stores.content.read(sha(blob)) == blob
    layer = stores.layers.commit(kept.staged, None)
    assert (layer.path / "etc" / "motd").read_bytes() == b"hello\n"


@pytest.mark.parametrize("damage", ["digest", "size", "truncated"])
def test_bad_blob_leaves_nothing(stores: Stores, damage: str) -> None:
    blob = gzip.compress(tar_of({"a": b"x" * 1000}))
    expected, size = sha(blob), len(blob)
    if damage == "digest":
        expected = sha(b"other")
    elif damage == "size":
        size += 1
    else:
        blob = blob[: len(blob) // 2]
    with pytest.raises(InvalidParameter):
        stage_keeping_blob(stores.layers, stores.content, pieces(blob), expected, size)
    assert leftovers(stores) == []
    assert stores.content.list() == []


def test_push_blob_made_once_from_a_plain_blob(stores: Stores) -> None:
    tar = tar_of({"bin/tool": b"#!/bin/sh\n"})
    kept = stage_keeping_blob(stores.layers, stores.content, [tar])
    layer = stores.layers.commit(kept.staged, None)
    stores.images.blobs.record(LayerBlob(layer.diff_id, kept.blob.digest, "", kept.blob.size))
    made = layer_blob(stores, layer)
    assert made.media_type.endswith("tar.gzip")
    assert gzip.decompress(stores.content.read(made.digest)) == tar
    assert layer_blob(stores, layer) == made  # recorded: reused, not made again


def test_push_blob_refuses_a_layer_it_cannot_reproduce(stores: Stores) -> None:
    kept = stage_keeping_blob(stores.layers, stores.content, [tar_of({"f": b"1"})])
    layer = stores.layers.commit(kept.staged, None)
    stores.content.delete(kept.blob.digest)  # the original tar is gone: tar_diff differs
    before = stores.content.list()
    with pytest.raises(InvalidParameter, match="cannot be reproduced"):
        layer_blob(stores, layer)
    assert stores.content.list() == before


def test_gzipped_round_trip() -> None:
    data = [b"a" * 100, b"", b"b" * 100]
    assert gzip.decompress(b"".join(gzipped(data))) == b"".join(data)


def test_zstd_layer_unpacks_and_truncation_is_refused(stores: Stores) -> None:
    tar = tar_of({"z/file": b"zstd content\n" * 100})
    blob = zstandard.ZstdCompressor().compress(tar)
    kept = stage_keeping_blob(stores.layers, stores.content, pieces(blob, 50))
    assert kept.kind == "zstd" and kept.staged.diff_id == sha(tar)
    stores.layers.discard(kept.staged)
    with pytest.raises(InvalidParameter, match="zstd"):
        stage_keeping_blob(stores.layers, stores.content, [blob[: len(blob) - 10]])
