"""Image metadata over real stores in a temp dir: import, resolve, tag, rmi, history."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from layer_tars import chunks, directory, file, tar_bytes

from dockwright.errors import InvalidParameter, NotFound
from dockwright.image import config as cfg
from dockwright.image.layers import LayerStore
from dockwright.image.reference import parse_normalized
from dockwright.image.store import ImageStore
from dockwright.store.content import ContentStore
from dockwright.store.db import Database

pytestmark = pytest.mark.unit

ROOTFS = tar_bytes(
    directory("bin"), file("bin/sh", b"#!" * 50, mode=0o755), directory("tmp", mode=0o1777)
)


@pytest.fixture
def images(tmp_path):
    db = Database(tmp_path / "state.db")
    layers = LayerStore(db, tmp_path / "layers", chown=False)
    yield ImageStore(db, ContentStore(tmp_path / "content"), layers)
    db.close()


def imp(images, tag="busybox:latest", changes=(), message=""):
    return images.import_rootfs(chunks(ROOTFS), tag, list(changes), message)


def test_import_creates_image_config_layer_and_tag(images):
    image_id = imp(images, changes=['CMD ["sh"]'], message="hello")
    config = json.loads(images.content.read(image_id))
    assert image_id == "sha256:" + hashlib.sha256(images.content.read(image_id)).hexdigest()
    assert config["config"]["Cmd"] == ["sh"]
    assert config["comment"] == "hello"
    rec = images.get(image_id)
    assert [t.familiar() for t in rec.tags] == ["busybox:latest"]
    assert rec.size == 100
    assert rec.last_tag_ns > 0
    assert rec.created_ns == cfg.parse_time(config["created"])
    layer = images.layers.get(rec.top_layer)
    assert layer.diff_id == config["rootfs"]["diff_ids"][0]
    assert images.layers.refs(layer.chain_id) == 1


def test_import_validates_before_reading(images):
    def never():
        raise AssertionError("the body must not be read")
        yield b""

    with pytest.raises(InvalidParameter, match="not a valid change command"):
        images.import_rootfs(never(), None, ["RUN x"])
    with pytest.raises(InvalidParameter, match="cannot import digest reference"):
        images.import_rootfs(never(), "x@sha256:" + "a" * 64, [])
    with pytest.raises(InvalidParameter, match="must be lowercase"):
        images.import_rootfs(never(), "X", [])


def test_failed_import_leaves_no_layer(images):
    with pytest.raises(InvalidParameter):
        images.import_rootfs(chunks(b"garbage" * 200), "x", [])
    assert images.layers.all() == []
    assert images.all() == []


def test_two_imports_share_the_layer(images):
    a = imp(images, "a")
    b = imp(images, "b", changes=["ENV X=1"])
    assert a != b
    assert images.get(a).top_layer == images.get(b).top_layer
    assert images.layers.refs(images.get(a).top_layer) == 2
    assert len(images.layers.all()) == 1


def test_resolve_by_tag_id_prefix_and_digest_forms(images):
    image_id = imp(images)
    hex_ = image_id[7:]
    for name in ("busybox", "busybox:latest", "docker.io/library/busybox:latest", image_id, hex_,
                 hex_[:12], hex_[:1], "sha256:" + hex_[:5]):  # fmt: skip
        assert images.resolve(name) == image_id
    with pytest.raises(NotFound) as err:
        images.resolve("nosuch")
    assert str(err.value) == "No such image: nosuch:latest"
    with pytest.raises(NotFound, match="No such image: sha256:"):
        images.resolve("f" * 64)
    with pytest.raises(InvalidParameter):
        images.resolve("UPPER")


def test_ambiguous_prefix_is_not_found(images):
    ids = {imp(images, f"img{i}") for i in range(40)}
    firsts = [i[7] for i in ids]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    with pytest.raises(NotFound):
        images.resolve(shared)


def test_tag_moves_between_images(images):
    a = imp(images, "app:1")
    b = imp(images, None)
    assert images.tag(b, parse_normalized("app:1")) == a
    assert images.resolve("app:1") == b
    assert images.get(a).tags == []


def test_rmi_by_name_untags_deletes_and_releases_layers(images):
    image_id = imp(images)
    top = images.get(image_id).top_layer
    result = images.delete("busybox", users={})
    assert result.records == [
        {"Untagged": "busybox:latest"},
        {"Deleted": image_id},
        {"Deleted": top},
    ]
    assert result.untagged == [image_id] and result.deleted == [image_id]
    assert not images.exists(image_id)
    assert not images.content.has(image_id)
    assert images.layers.all() == []
    images.layers.sweep()
    assert [d for d in os.listdir(images.layers.root) if d != "empty"] == []


def test_rmi_keeps_shared_layers(images):
    a = imp(images, "a")
    imp(images, "b")
    result = images.delete("a", users={})
    assert result.records == [{"Untagged": "a:latest"}, {"Deleted": a}]
    assert len(images.layers.all()) == 1


def test_rmi_conflict_changes_nothing(images):
    image_id = imp(images)
    images.tag(image_id, parse_normalized("other"))
    with pytest.raises(Exception, match="referenced in multiple repositories"):
        images.delete(image_id[7:19], users={})
    assert [t.familiar() for t in images.get(image_id).tags] == ["busybox:latest", "other:latest"]


def test_rmi_of_unknown_image_is_not_found(images):
    with pytest.raises(NotFound, match="No such image: ghost:latest"):
        images.delete("ghost", users={})


def test_history_of_an_import(images):
    image_id = imp(images, message="from tarball")
    [entry] = images.history(image_id)
    assert entry.image_id == image_id
    assert entry.tags == ("busybox:latest",)
    assert entry.size == 100
    assert entry.comment == "from tarball"
    assert entry.created_ns == images.get(image_id).created_ns


def test_history_names_local_parents(images):
    base = imp(images, "base")
    config = images.config(base)
    child_config = {**config, "history": config["history"] + [{"created": config["created"], "created_by": "CMD x",
                                                               "empty_layer": True}]}  # fmt: skip
    child = images.create(cfg.encode(child_config), parent=base)
    images.tag(child, parse_normalized("child"))
    entries = images.history(child)
    assert [(e.image_id, e.tags, e.size, e.created_by) for e in entries] == [
        (child, ("child:latest",), 0, "CMD x"), (base, ("base:latest",), 100, "")]  # fmt: skip
    assert images.children(base) == [child]


def test_create_rejects_configs_whose_layers_are_missing(images):
    config = cfg.import_config(["sha256:" + "9" * 64], [], "", 1)
    with pytest.raises(NotFound, match="no such layer"):
        images.create(cfg.encode(config))
    with pytest.raises(InvalidParameter):
        images.create(b"{not json")


def test_image_without_layers(images):
    image_id = images.create(cfg.encode(cfg.import_config([], [], "", 5)))
    assert images.get(image_id).top_layer is None
    assert images.layers_of(image_id) == []
    assert images.get(image_id).size == 0
