"""docker commit: the config it writes (pure) and the layer it makes from an upper directory."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

import pytest

from dockwright.distribution.blobsource import layer_blob
from dockwright.distribution.stores import Stores
from dockwright.errors import InvalidParameter
from dockwright.image import config as cfg
from dockwright.image.commit import commit_config, commit_image, image_config_of
from dockwright.image.layers import LayerStore
from dockwright.image.store import ImageStore
from dockwright.store.content import ContentStore
from dockwright.store.db import Database
from dockwright.types.container import ContainerConfig

pytestmark = pytest.mark.unit

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def test_image_config_of_container() -> None:
    c = ContainerConfig(image="busybox", cmd=("sh", "-c", "x"), env=("A=1",), working_dir="/w",
                        labels={"k": "v"}, exposed_ports=("80/tcp",), volumes=("/data",))  # fmt: skip
    assert image_config_of(c) == {
        "Cmd": ["sh", "-c", "x"], "Env": ["A=1"], "WorkingDir": "/w", "Labels": {"k": "v"},
        "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
    }  # fmt: skip


def test_commit_config_appends_layer_history_and_changes() -> None:
    parent = {"architecture": "arm64", "variant": "v8", "os": "linux",
              "rootfs": {"type": "layers", "diff_ids": [D1]},
              "history": [{"created": "2020-01-01T00:00:00Z", "created_by": "base"}]}  # fmt: skip
    out = commit_config(parent, {"Cmd": ["sh"], "Env": ["A=1"]}, D2,
                        ["CMD [\"top\"]", "ENV B=2", "USER nobody"], "msg", "me", "cid",
                        1_700_000_000_000_000_000)  # fmt: skip
    assert out["rootfs"]["diff_ids"] == [D1, D2]
    assert out["config"] == {"Cmd": ["top"], "Env": ["A=1", "B=2"], "User": "nobody"}
    assert out["history"][-1] == {"created": "2023-11-14T22:13:20Z", "created_by": "sh",
                                  "author": "me", "comment": "msg"}  # fmt: skip
    assert (out["architecture"], out["variant"], out["author"], out["comment"]) == (
        "arm64", "v8", "me", "msg")  # fmt: skip
    assert out["container"] == "cid"


@pytest.fixture
def stores(tmp_path):
    db = Database(tmp_path / "state.db")
    content = ContentStore(tmp_path / "content")
    layers = LayerStore(db, tmp_path / "layers", chown=False)
    yield Stores(content, layers, ImageStore(db, content, layers))
    db.close()


def base_image(store: ImageStore) -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("etc/base")
        info.size = 5
        tf.addfile(info, io.BytesIO(b"base\n"))
    return store.import_rootfs([buf.getvalue()], "base:1", [])


def test_commit_image_makes_a_pushable_child(stores: Stores, tmp_path) -> None:
    parent = base_image(stores.images)
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "new").write_bytes(b"new\n")
    image_id = commit_image(stores.images, parent, upper, ContainerConfig(cmd=("sh",)), "cid",
                            ["LABEL a=b"], "c", "me")  # fmt: skip
    rec = stores.images.get(image_id)
    assert rec.parent == parent
    config = stores.images.config(image_id)
    assert config["config"]["Labels"] == {"a": "b"} and len(cfg.diff_ids(config)) == 2
    top = stores.images.layers_of(image_id)[0]
    assert (top.path / "etc" / "new").read_bytes() == b"new\n"
    blob = layer_blob(stores, top)  # reproducible: the committed tar was kept
    data = gzip.decompress(stores.content.read(blob.digest))
    assert "sha256:" + hashlib.sha256(data).hexdigest() == top.diff_id


def test_commit_refuses_bad_changes_before_work(stores: Stores, tmp_path) -> None:
    parent = base_image(stores.images)
    layers_before = stores.layers.all()
    with pytest.raises(InvalidParameter):
        commit_image(stores.images, parent, tmp_path, ContainerConfig(), "cid", ["RUN x"])
    assert stores.layers.all() == layers_before
