"""The image service facade: Docker JSON shapes, filters, events, rmi with containers."""

from __future__ import annotations

import asyncio

import pytest
from layer_tars import chunks, directory, file, tar_bytes

from dockwright.engine.images import ImageService, path_match
from dockwright.errors import Conflict, InvalidParameter, NotFound, NotImplementedYet
from dockwright.image import config as cfg
from dockwright.image.reference import parse_normalized
from dockwright.store.db import Database

pytestmark = pytest.mark.unit

ROOTFS = tar_bytes(directory("bin"), file("bin/sh", b"#" * 300, mode=0o755))


class RecordingEvents:
    def __init__(self):
        self.events = []

    def publish(self, kind, action, actor_id, attributes):
        self.events.append((kind, action, actor_id, dict(attributes)))


@pytest.fixture
def svc(tmp_path):
    db = Database(tmp_path / "state.db")
    service = ImageService(tmp_path / "data", db, RecordingEvents())
    service.layers.chown = False
    yield service
    db.close()


async def body(data):
    for piece in chunks(data, 512):
        yield piece


def imp(svc, repo="busybox", tag=None, changes=(), message="", data=ROOTFS):
    return asyncio.run(svc.import_image(body(data), repo, tag, list(changes), message))


def test_import_publishes_tag_then_import(svc):
    image_id = imp(svc, "busybox", "1.36", changes=["LABEL team=core"])
    assert svc.events.events == [
        ("image", "tag", image_id, {"team": "core", "name": "busybox:1.36"}),
        ("image", "import", image_id, {"team": "core", "name": image_id}),
    ]


def test_import_from_url_is_not_implemented(svc):
    with pytest.raises(NotImplementedYet):
        asyncio.run(svc.import_image(body(ROOTFS), source="http://example.com/x.tar"))


def test_list_summary_shape(svc):
    image_id = imp(svc, changes=["LABEL a=b"])
    [item] = svc.list()
    assert item == {
        "Containers": -1, "Created": svc.store.get(image_id).created_ns // 10**9, "Id": image_id,
        "Labels": {"a": "b"}, "ParentId": "", "RepoDigests": [], "RepoTags": ["busybox:latest"],
        "SharedSize": -1, "Size": 300,
    }  # fmt: skip


def test_list_filters(svc):
    old = imp(svc, "old", changes=["LABEL tier=db"])
    mid = imp(svc, "mid", changes=["LABEL tier=web"])
    new = imp(svc, None)
    ids = lambda **f: [i["Id"] for i in svc.list(filters={k: v for k, v in f.items()})]  # noqa: E731
    assert ids() == [new, mid, old]
    assert ids(dangling=["true"]) == [new]
    assert ids(dangling=["false"]) == [mid, old]
    assert ids(label=["tier"]) == [mid, old]
    assert ids(label=["tier=db"]) == [old]
    assert ids(reference=["m*"]) == [mid]
    assert ids(reference=["mid:latest"]) == [mid]
    assert ids(before=["mid"]) == [old]
    assert ids(since=["mid"]) == [new]
    with pytest.raises(InvalidParameter, match="invalid filter 'color'"):
        ids(color=["red"])
    with pytest.raises(InvalidParameter, match="invalid filter 'dangling=maybe'"):
        ids(dangling=["maybe"])


def test_reference_filter_narrows_repo_tags(svc):
    image_id = imp(svc, "app", "1")
    svc.tag(image_id, "other", "2")
    [item] = svc.list(filters={"reference": ["app"]})
    assert item["RepoTags"] == ["app:1"]


def test_untagged_parents_are_hidden_without_all(svc):
    base = imp(svc, None)
    config = svc.image_config(base)
    child = svc.store.create(cfg.encode({**config, "comment": "child"}), parent=base)
    svc.store.tag(child, parse_normalized("child"))
    assert [i["Id"] for i in svc.list()] == [child]
    assert {i["Id"] for i in svc.list(all=True)} == {base, child}
    assert next(i for i in svc.list(all=True) if i["Id"] == child)["ParentId"] == base


def test_shared_size_and_usage(svc):
    a = imp(svc, "a")
    b = imp(svc, "b", changes=["ENV X=1"])
    sizes = {i["Id"]: i["SharedSize"] for i in svc.list(shared_size=True)}
    assert sizes == {a: 300, b: 300}
    usage = svc.usage()
    assert usage.layers_size == 300
    assert usage.image_sizes == {a: 300, b: 300}


def test_inspect_shape(svc):
    image_id = imp(svc, "busybox", changes=['CMD ["sh"]'], message="imported")
    top = svc.layers.get(svc.store.get(image_id).top_layer)
    body = svc.inspect("busybox")
    config = svc.image_config(image_id)
    assert body["Id"] == image_id
    assert body["RepoTags"] == ["busybox:latest"] and body["RepoDigests"] == []
    assert body["Parent"] == "" and body["Comment"] == "imported" and body["Author"] == ""
    assert body["Created"] == config["created"]
    assert body["Config"]["Cmd"] == ["sh"] and body["Config"]["Entrypoint"] is None
    assert body["Config"]["Env"][0].startswith("PATH=") and body["Config"]["Hostname"] == ""
    assert body["Architecture"] == cfg.host_arch() and body["Os"] == "linux"
    assert body["Size"] == 300
    assert body["GraphDriver"] == {"Name": "overlay2", "Data": {
        "MergedDir": str(top.path.parent / "merged"), "UpperDir": str(top.path),
        "WorkDir": str(top.path.parent / "work")}}  # fmt: skip
    assert body["RootFS"] == {"Type": "layers", "Layers": [top.diff_id]}
    assert (
        body["Metadata"]["LastTagTime"].endswith("Z")
        and body["Metadata"]["LastTagTime"] != cfg.ZERO_TIME
    )
    untagged = svc.inspect(imp(svc, None))
    assert untagged["RepoTags"] == [] and untagged["Metadata"]["LastTagTime"] == cfg.ZERO_TIME


def test_history_json(svc):
    image_id = imp(svc, message="m")
    assert svc.history("busybox") == [{
        "Id": image_id, "Created": svc.store.get(image_id).created_ns // 10**9, "CreatedBy": "",
        "Tags": ["busybox:latest"], "Size": 300, "Comment": "m"}]  # fmt: skip


def test_tag_validation_and_event(svc):
    image_id = imp(svc)
    svc.events.events.clear()
    svc.tag("busybox", "localhost:5000/team/app", "v1")
    assert svc.inspect(image_id)["RepoTags"] == ["busybox:latest", "localhost:5000/team/app:v1"]
    assert svc.events.events == [("image", "tag", image_id, {"name": "localhost:5000/team/app:v1"})]
    with pytest.raises(InvalidParameter, match="at least one component"):
        svc.tag("busybox", None, None)
    with pytest.raises(InvalidParameter, match="digest reference"):
        svc.tag("busybox", "x@sha256:" + "a" * 64, None)
    with pytest.raises(InvalidParameter, match="ambiguous"):
        svc.tag("busybox", "sha256", "x")
    with pytest.raises(InvalidParameter, match="invalid tag format"):
        svc.tag("busybox", "x", "bad tag")
    with pytest.raises(NotFound, match="No such image: ghost:latest"):
        svc.tag("ghost", "x", None)


def test_remove_records_events_and_container_conflicts(svc):
    image_id = imp(svc)
    svc.images_in_use = lambda: {image_id: [("f" * 64, True)]}
    with pytest.raises(Conflict, match="container ffffffffffff is using its referenced image"):
        asyncio.run(svc.remove("busybox"))
    svc.images_in_use = dict
    svc.events.events.clear()
    top = svc.store.get(image_id).top_layer
    records = asyncio.run(svc.remove("busybox"))
    assert records == [{"Untagged": "busybox:latest"}, {"Deleted": image_id}, {"Deleted": top}]
    assert [e[1] for e in svc.events.events] == ["untag", "delete"]
    assert svc.list(all=True) == []
    assert [p.name for p in svc.layers.root.iterdir()] == ["empty"]


def test_resolve_port_for_containers(svc):
    image_id = imp(svc, changes=["WORKDIR /srv"])
    resolved, config = svc.resolve("busybox")
    assert resolved == image_id and config["WorkingDir"] == "/srv"
    assert svc.display_name(image_id) == "busybox:latest"
    untagged = imp(svc, None)
    assert svc.display_name(untagged) == untagged


def test_path_match_is_go_path_match():
    assert path_match("busy*", "busybox")
    assert not path_match("*", "library/busybox")
    assert path_match("*/*", "user/app")
    assert path_match("b?sybox:[l]atest", "busybox:latest")
    assert not path_match("a.c", "abc")
