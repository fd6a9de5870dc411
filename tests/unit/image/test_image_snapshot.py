"""Container snapshots: mount plans as data, directories, layer references."""

from __future__ import annotations

import pytest
from layer_tars import chunks, file, tar_bytes

from dockwright.errors import Conflict, NotFound
from dockwright.image import config as cfg
from dockwright.image.layers import LayerStore
from dockwright.image.reference import parse_normalized
from dockwright.image.snapshot import MountPlan, Snapshotter
from dockwright.image.store import ImageStore
from dockwright.store.content import ContentStore
from dockwright.store.db import Database

pytestmark = pytest.mark.unit
CID = "c" * 64


@pytest.fixture
def env(tmp_path):
    db = Database(tmp_path / "state.db")
    layers = LayerStore(db, tmp_path / "layers", chown=False)
    images = ImageStore(db, ContentStore(tmp_path / "content"), layers)
    yield images, Snapshotter(db, tmp_path / "containers", layers, images), tmp_path
    db.close()


def two_layer_image(images):
    base = images.layers.apply(chunks(tar_bytes(file("a", b"base"))))
    top = images.layers.apply(chunks(tar_bytes(file("b", b"top"))), parent=base.chain_id)
    config = cfg.import_config([base.diff_id, top.diff_id], [], "", 1)
    return images.create(cfg.encode(config)), base, top


def test_prepare_returns_the_overlay_plan_top_first(env):
    images, snaps, root = env
    image_id, base, top = two_layer_image(images)
    plan = snaps.prepare(image_id, CID)
    box = root / "containers" / CID
    assert plan == MountPlan((top.path, base.path), box / "upper", box / "work", box / "merged")
    assert (
        plan.options == f"lowerdir={top.path}:{base.path},upperdir={box}/upper,workdir={box}/work"
    )
    assert all(p.is_dir() for p in (plan.upperdir, plan.workdir, plan.target))
    assert snaps.plan(CID) == plan
    assert snaps.upper_dir(CID) == box / "upper"
    assert snaps.image_of(CID) == image_id
    assert snaps.all() == [CID]


def test_image_without_layers_mounts_an_empty_lower(env):
    images, snaps, _ = env
    image_id = images.create(cfg.encode(cfg.import_config([], [], "", 1)))
    plan = snaps.prepare(image_id, CID)
    assert plan.lowerdirs == (images.layers.empty_dir,)
    assert list(images.layers.empty_dir.iterdir()) == []


def test_prepare_twice_is_a_conflict_and_unknown_image_not_found(env):
    images, snaps, _ = env
    image_id, _, _ = two_layer_image(images)
    snaps.prepare(image_id, CID)
    with pytest.raises(Conflict):
        snaps.prepare(image_id, CID)
    with pytest.raises(NotFound):
        snaps.prepare("sha256:" + "0" * 64, "d" * 64)
    assert not (env[2] / "containers" / ("d" * 64)).exists()


def test_snapshot_keeps_layers_alive_after_forced_rmi(env):
    images, snaps, _ = env
    image_id, base, top = two_layer_image(images)
    images.tag(image_id, parse_normalized("app"))
    plan = snaps.prepare(image_id, CID)
    result = images.delete("app", users={image_id: [(CID, False)]}, force=True)
    assert {"Deleted": image_id} in result.records
    assert images.layers.has(top.chain_id) and top.path.is_dir()
    (plan.upperdir / "written").write_text("x")
    snaps.remove(CID)
    assert not images.layers.has(top.chain_id) and not images.layers.has(base.chain_id)
    assert not top.path.exists()
    assert not (env[2] / "containers" / CID).exists()
    snaps.remove(CID)  # idempotent


def test_remove_leaves_the_runtime_files_alone(env):
    images, snaps, root = env
    image_id, _, _ = two_layer_image(images)
    snaps.prepare(image_id, CID)
    (root / "containers" / CID / "config.json").write_text("{}")
    snaps.remove(CID)
    assert sorted(p.name for p in (root / "containers" / CID).iterdir()) == ["config.json"]
    with pytest.raises(NotFound):
        snaps.lower_dirs(CID)


def test_changes_of_a_snapshot(env):
    images, snaps, _ = env
    image_id, _, _ = two_layer_image(images)
    plan = snaps.prepare(image_id, CID)
    (plan.upperdir / "a").write_text("changed")
    (plan.upperdir / "c").write_text("new")
    assert snaps.changes(CID) == [(0, "/a"), (1, "/c")]
