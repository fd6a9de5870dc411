"""The layer store: chain ids, sharing, reference counts, atomic apply."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from layer_tars import chunks, directory, file, tar_bytes

from dockwright.errors import InvalidParameter, NotFound
from dockwright.image.layers import LayerStore, chain_id, chain_ids
from dockwright.store.db import Database

pytestmark = pytest.mark.unit

BASE = tar_bytes(directory("etc"), file("etc/hostname", b"base\n"), file("big", b"x" * 5000))
TOP = tar_bytes(file("etc/hostname", b"top\n"))


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def layers(tmp_path):
    db = Database(tmp_path / "state.db")
    yield LayerStore(db, tmp_path / "layers", chown=False)
    db.close()


def dirs(store):
    return sorted(e for e in os.listdir(store.root) if e != "empty")


def test_chain_ids_follow_the_oci_definition():
    a, b = sha(b"a"), sha(b"b")
    assert chain_id(None, a) == a
    expected = "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    assert chain_ids([a, b]) == [a, expected]


def test_apply_registers_the_layer(layers):
    layer = layers.apply(chunks(BASE))
    assert layer.diff_id == sha(BASE) == layer.chain_id
    assert layer.parent is None
    assert layer.size == 5 + 5000
    assert (layer.path / "etc" / "hostname").read_bytes() == b"base\n"
    assert layer.path == layers.root / layer.dir_id / "diff"
    assert layers.get(layer.chain_id) == layer
    assert layers.refs(layer.chain_id) == 0
    assert dirs(layers) == [layer.dir_id]


def test_identical_layer_is_unpacked_once(layers):
    first = layers.apply(chunks(BASE))
    second = layers.apply(chunks(tar_bytes(directory("etc"), file("etc/hostname", b"base\n"),
                                           file("big", b"x" * 5000))))  # fmt: skip
    assert second == first
    assert dirs(layers) == [first.dir_id]
    assert len(layers.all()) == 1


def test_same_diff_on_another_parent_is_another_layer(layers):
    base = layers.apply(chunks(BASE))
    top = layers.apply(chunks(TOP), parent=base.chain_id)
    assert top.chain_id == chain_id(base.chain_id, sha(TOP))
    assert layers.refs(base.chain_id) == 1  # the child holds its parent
    assert [layer.chain_id for layer in layers.chain(top.chain_id)] == [top.chain_id, base.chain_id]
    alone = layers.apply(chunks(TOP))
    assert alone.chain_id == sha(TOP) != top.chain_id


def test_unknown_parent_is_not_found(layers):
    with pytest.raises(NotFound):
        layers.apply(chunks(TOP), parent=sha(b"missing"))


def test_failed_apply_leaves_nothing(layers):
    with pytest.raises(InvalidParameter):
        layers.apply(chunks(tar_bytes(file("ok", b"1"), file("../escape", b"2"))))
    assert dirs(layers) == []
    assert layers.all() == []


def test_failed_deep_layer_is_cleaned_up(layers):
    deep = "/".join(["d"] * 1100)
    with pytest.raises(InvalidParameter):
        layers.apply(chunks(tar_bytes(file(f"{deep}/f", b"1"), file("../escape", b"2"))))
    assert dirs(layers) == []


def test_release_removes_unreferenced_layers_and_their_parents(layers):
    base = layers.apply(chunks(BASE))
    top = layers.apply(chunks(TOP), parent=base.chain_id)
    layers.acquire(top.chain_id)
    layers.acquire(top.chain_id)
    assert layers.release(top.chain_id) == []
    assert layers.release(top.chain_id) == [top.chain_id, base.chain_id]
    assert layers.all() == []
    assert all(d.startswith(".trash-") for d in dirs(layers))
    layers.sweep()
    assert dirs(layers) == []


def test_shared_base_survives_one_user(layers):
    base = layers.apply(chunks(BASE))
    layers.acquire(base.chain_id)  # an image of the base alone
    top = layers.apply(chunks(TOP), parent=base.chain_id)
    layers.acquire(top.chain_id)
    assert layers.release(top.chain_id) == [top.chain_id]
    assert layers.has(base.chain_id)
    assert (base.path / "big").exists()


def test_recover_sweeps_interrupted_and_orphaned_state(layers):
    kept = layers.apply(chunks(BASE))
    layers.acquire(kept.chain_id)
    unreferenced = layers.apply(chunks(TOP))
    (layers.root / ".tmp-0123").mkdir()
    (layers.root / ("f" * 32)).mkdir()  # a directory no row names
    assert layers.recover() == [unreferenced.chain_id]
    assert dirs(layers) == [kept.dir_id]
    assert (layers.root / "empty").is_dir()


def test_apply_async_from_an_async_body(layers):
    async def body():
        for piece in chunks(BASE, 100):
            await asyncio.sleep(0)
            yield piece

    layer = asyncio.run(layers.apply_async(body()))
    assert layer.diff_id == sha(BASE)
    assert layers.usage() == {layer.chain_id: 5005}
