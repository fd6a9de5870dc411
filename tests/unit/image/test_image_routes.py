"""The /images routes through the router with an in-memory channel (no socket)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import pytest
from layer_tars import chunks, directory, file, tar_bytes

from dockwright.api.http import Headers, Query, Request
from dockwright.api.router import Router
from dockwright.api.routes.images import image_routes
from dockwright.engine.images import ImageService
from dockwright.errors import InvalidParameter, NotFound
from dockwright.store.db import Database

pytestmark = pytest.mark.unit

ROOTFS = tar_bytes(directory("bin"), *[file(f"bin/f{i}", bytes([i]) * 4096) for i in range(64)])


class Events:
    def publish(self, kind, action, actor_id, attributes):
        pass


class BodyChannel:
    """Hands out the body chunk by chunk; `on_chunk(i)` runs before chunk i is given."""

    def __init__(self, body=b"", on_chunk=None):
        self.pieces = chunks(body, 1024)
        self.on_chunk = on_chunk or (lambda i: None)
        self.given = 0

    async def receive(self):
        if self.given == len(self.pieces):
            return None
        self.on_chunk(self.given)
        self.given += 1
        await asyncio.sleep(0)
        return self.pieces[self.given - 1]

    async def hijack(self, content_type):
        raise AssertionError("not used")

    async def start_stream(self, status, content_type, headers):
        raise AssertionError("not used")

    async def disconnected(self):
        await asyncio.Event().wait()


@pytest.fixture
def svc(tmp_path):
    db = Database(tmp_path / "state.db")
    service = ImageService(tmp_path / "data", db, Events())
    yield service
    db.close()


def call(svc, method, path, query=None, channel=None, version=(1, 45)):
    router = Router(image_routes(svc))
    route, params = router.resolve(method, path)
    req = Request(method, path, version=version, params=params, headers=Headers(),
                  query=Query(urlencode(query or {}, doseq=True)), channel=channel or BodyChannel())  # fmt: skip
    return asyncio.run(route.handler(req))


def do_import(svc, **query):
    resp = call(svc, "POST", "/images/create", {"fromSrc": "-", **query}, BodyChannel(ROOTFS))
    assert resp.status == 200 and resp.content_type == "application/json"
    assert resp.body.endswith(b"\r\n")
    return json.loads(resp.body)["status"]


def test_import_answers_with_docker_progress_line(svc):
    image_id = do_import(
        svc, repo="localhost:5000/team/app:v1", changes=["ENV A=1", "CMD sh"], message="m"
    )
    assert image_id.startswith("sha256:")
    body = json.loads(call(svc, "GET", "/images/localhost:5000/team/app:v1/json").body)
    assert body["Id"] == image_id
    assert body["Config"]["Cmd"] == ["/bin/sh", "-c", "sh"] and "A=1" in body["Config"]["Env"]
    assert body["Comment"] == "m"


def test_import_streams_the_body_into_extraction(svc):
    seen_files_early = []

    def on_chunk(i):
        if i == 200:  # well before the end: unpacking must already be under way
            tmp = [p for p in svc.layers.root.iterdir() if p.name.startswith(".tmp-")]
            seen_files_early.append(bool(tmp) and any((tmp[0] / "diff" / "bin").glob("f*")))

    resp = call(
        svc,
        "POST",
        "/images/create",
        {"fromSrc": "-", "repo": "big"},
        BodyChannel(ROOTFS, on_chunk),
    )
    assert resp.status == 200
    assert seen_files_early == [True]


def test_bad_import_arguments(svc):
    with pytest.raises(InvalidParameter):
        call(svc, "POST", "/images/create", {})
    with pytest.raises(InvalidParameter, match="not a valid change command"):
        call(
            svc, "POST", "/images/create", {"fromSrc": "-", "changes": "RUN x"}, BodyChannel(ROOTFS)
        )


def test_list_versions(svc):
    do_import(svc, repo="busybox")
    [new] = json.loads(call(svc, "GET", "/images/json").body)
    assert "VirtualSize" not in new
    [old] = json.loads(call(svc, "GET", "/images/json", version=(1, 41)).body)
    assert old["VirtualSize"] == old["Size"] == 64 * 4096
    filtered = json.loads(
        call(svc, "GET", "/images/json", {"filters": json.dumps({"dangling": {"true": True}})}).body
    )
    assert filtered == []


def test_tag_history_and_delete(svc):
    image_id = do_import(svc, repo="busybox")
    resp = call(
        svc, "POST", f"/images/{image_id[7:19]}/tag", {"repo": "localhost:5000/a/b", "tag": "t"}
    )
    assert resp.status == 201 and resp.body == b""
    history = json.loads(call(svc, "GET", "/images/localhost:5000/a/b:t/history").body)
    assert history[0]["Id"] == image_id and "localhost:5000/a/b:t" in history[0]["Tags"]
    records = json.loads(call(svc, "DELETE", "/images/localhost:5000/a/b:t").body)
    assert records == [{"Untagged": "localhost:5000/a/b:t"}]
    records = json.loads(
        call(svc, "DELETE", "/images/busybox", {"force": "1", "noprune": "0"}).body
    )
    assert records[:2] == [{"Untagged": "busybox:latest"}, {"Deleted": image_id}]
    with pytest.raises(NotFound, match="No such image: busybox:latest"):
        call(svc, "GET", "/images/busybox/json")
