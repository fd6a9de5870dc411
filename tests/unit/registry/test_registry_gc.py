"""Online garbage collection: what it removes, what it keeps, and pushes racing it."""

from __future__ import annotations

import asyncio
import json
import random
import time

import pytest
from registry_fakes import Client, apush_image, body_of, digest

from dockwright.registry.app import RegistryApp
from dockwright.registry.core import Stores
from dockwright.registry.gc import collect, collect_garbage, plan, sweep

pytestmark = pytest.mark.unit

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def gc(client: Client, grace: float = 0.0):
    return asyncio.run(collect_garbage(client.app.stores, grace))


def blob_files(client: Client) -> set[str]:
    root = client.app.stores.layout.blobs
    return {f"{p.parent.name}:{p.name}" for p in root.rglob("*") if p.is_file()}


def test_untagged_manifests_and_their_blobs_go(client):
    keep, _ = client.push_image("app", "keep", layer=b"shared")
    old, _ = client.push_image("app", "old", layer=b"only-old")
    client.push_image("app", "old2", layer=b"shared")  # retags "old" to another manifest
    client("DELETE", "/v2/app/manifests/old2")
    client("DELETE", "/v2/app/manifests/old")
    orphan = client.push_blob("app", b"never referenced")
    report = gc(client)
    assert report.manifests >= 1 and report.blobs >= 3
    files = blob_files(client)
    assert keep in files and digest(b"shared") in files
    assert old not in files and digest(b"only-old") not in files and orphan not in files
    assert client("GET", "/v2/app/manifests/keep").status == 200
    assert client("GET", f"/v2/app/manifests/{old}").status == 404


def test_index_children_and_referrers_are_kept(client):
    child, body = client.push_image("app", "child")
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": len(body)}],
    }
    assert (
        client(
            "PUT", "/v2/app/manifests/multi", json.dumps(index).encode(), content_type=OCI_INDEX
        ).status
        == 201
    )
    subj = {"mediaType": OCI_MANIFEST, "digest": child, "size": len(body)}
    sig, _ = client.push_image("app", "sig", layer=b"sig", subject=subj, artifactType="x/sig")
    client("DELETE", "/v2/app/manifests/child")
    client("DELETE", "/v2/app/manifests/sig")  # untagged, but its subject is kept
    gc(client)
    assert body_of(client("GET", f"/v2/app/manifests/{child}")) == body
    assert client("GET", f"/v2/app/manifests/{sig}").status == 200
    assert client("GET", f"/v2/app/blobs/{digest(b'sig')}").status == 200


def test_grace_period_protects_recent_uploads(client):
    orphan = client.push_blob("app", b"waiting for its manifest")
    report = gc(client, grace=3600)
    assert report.blobs == 0 and orphan in blob_files(client)


def test_pushes_racing_gc_never_leave_a_manifest_with_missing_blobs(tmp_path):
    app = RegistryApp(Stores.open(tmp_path / "root"))
    rng = random.Random(5)
    shared = [f"base-{i}".encode() * 100 for i in range(3)]
    setup = Client(app)
    for name in ("r0", "r1"):  # old, unreferenced blobs that pushes find by HEAD and reuse
        for data in shared:
            setup.push_blob(name, data)

    async def pusher(n: int) -> list[tuple[str, str]]:
        pushed = []
        for i in range(6):
            layers = [rng.choice(shared), f"own-{n}-{i}".encode()]
            for _ in range(5):  # a push refused by the collector is retried
                if await apush_image(app, f"r{n % 2}", f"t{n}-{i}", layers) is not None:
                    pushed.append((f"r{n % 2}", f"t{n}-{i}"))
                    break
            if i % 2:
                await apush_image(app, f"r{n % 2}", f"t{n}-{i}", [f"x{n}{i}".encode()])
        return pushed

    async def collector(stop: asyncio.Event) -> int:
        runs = 0
        while not stop.is_set():
            await collect_garbage(app.stores, grace=0.0)
            runs += 1
            await asyncio.sleep(0)
        return runs

    async def main() -> tuple[list[list[tuple[str, str]]], int]:
        stop = asyncio.Event()
        gc_task = asyncio.create_task(collector(stop))
        results = await asyncio.gather(*(pusher(n) for n in range(4)))
        stop.set()
        return results, await gc_task

    results, runs = asyncio.run(main())
    assert runs > 1
    client = Client(app)
    for name, tag in [p for r in results for p in r]:
        r = client("GET", f"/v2/{name}/manifests/{tag}")
        assert r.status == 200
        doc = json.loads(body_of(r))
        for desc in [doc["config"], *doc["layers"]]:
            assert client("HEAD", f"/v2/{name}/blobs/{desc['digest']}").status == 200
    gc(client)  # and a final collection still keeps every tagged image whole
    for name, tag in [p for r in results for p in r]:
        doc = json.loads(body_of(client("GET", f"/v2/{name}/manifests/{tag}")))
        for desc in [doc["config"], *doc["layers"]]:
            assert client("GET", f"/v2/{name}/blobs/{desc['digest']}").status == 200


def test_push_between_snapshot_and_sweep_is_kept(client):
    """The race, step by step: blobs unreferenced at snapshot time, reused before the sweep."""
    cfg, layer = b'{"os":"linux"}', b"old layer"
    client.push_blob("app", cfg)
    client.push_blob("app", layer)
    stores = client.app.stores
    cutoff = time.time()
    stores.repos.touched = touched = set()
    snapshot = collect(stores)  # both blobs are candidates now
    assert {digest(cfg), digest(layer)} <= set(plan(snapshot, cutoff).blobs)
    for d in (digest(cfg), digest(layer)):  # a client finds both by HEAD and uploads nothing
        assert client("HEAD", f"/v2/app/blobs/{d}").status == 200
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "x", "digest": digest(cfg), "size": len(cfg)},
        "layers": [{"mediaType": "x", "digest": digest(layer), "size": len(layer)}],
    }
    body = json.dumps(doc).encode()
    assert client("PUT", "/v2/app/manifests/v1", body, content_type=OCI_MANIFEST).status == 201
    manifest = digest(body)
    report = sweep(stores, plan(snapshot, cutoff), cutoff, touched)
    stores.repos.touched = None
    assert report.blobs == 0
    for d in (digest(cfg), digest(layer), manifest):
        assert client("GET", f"/v2/app/blobs/{d}").status == 200
