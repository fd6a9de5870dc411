"""The registry API, driven in process through `RegistryApp.handle` with hand-made requests."""

from __future__ import annotations

import json

import pytest
from registry_fakes import Client, body_of, codes, digest, header

from dockwright.registry.app import RegistryApp
from dockwright.registry.core import Stores

pytestmark = pytest.mark.unit

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def test_base_endpoint(client):
    r = client("GET", "/v2/")
    assert r.status == 200 and header(r, "Docker-Distribution-API-Version") == "registry/2.0"


def test_monolithic_blob_and_range(client):
    d = client.push_blob("lib/a", b"0123456789")
    r = client("GET", f"/v2/lib/a/blobs/{d}")
    assert r.status == 200 and body_of(r) == b"0123456789"
    assert header(r, "Docker-Content-Digest") == d
    r = client("GET", f"/v2/lib/a/blobs/{d}", range="bytes=2-4")
    assert r.status == 206 and body_of(r) == b"234" and header(r, "Content-Range") == "bytes 2-4/10"
    r = client("GET", f"/v2/lib/a/blobs/{d}", range="bytes=10-")
    assert r.status == 416 and header(r, "Content-Range") == "bytes */10"
    r = client("HEAD", f"/v2/lib/a/blobs/{d}")
    assert r.status == 200 and len(r.body) == 10


def test_blob_is_private_to_its_repositories(client):
    d = client.push_blob("one", b"secret")
    r = client("GET", f"/v2/two/blobs/{d}")
    assert r.status == 404 and codes(r) == ["BLOB_UNKNOWN"]


def test_chunked_upload_in_order_and_out_of_order(client):
    r = client("POST", "/v2/c/blobs/uploads/")
    assert r.status == 202 and header(r, "Range") == "0-0"
    loc = header(r, "Location")
    r = client("PATCH", loc, b"hello ", content_range="0-5", content_length="6")
    assert r.status == 202 and header(r, "Range") == "0-5"
    r = client("PATCH", loc, b"xx", content_range="3-4")
    assert r.status == 416 and codes(r) == ["BLOB_UPLOAD_INVALID"]
    r = client("GET", loc)
    assert r.status == 204 and header(r, "Range") == "0-5"
    d = digest(b"hello world")
    r = client("PUT", f"{loc}?digest={d}", b"world", content_range="6-10")
    assert r.status == 201 and header(r, "Location") == f"/v2/c/blobs/{d}"
    assert body_of(client("GET", f"/v2/c/blobs/{d}")) == b"hello world"
    assert client("GET", loc).status == 404  # the session is gone


def test_wrong_digest_rejects_and_ends_upload(client, tmp_path):
    r = client("POST", "/v2/c/blobs/uploads/")
    loc = header(r, "Location")
    wrong = digest(b"something else")
    r = client("PUT", f"{loc}?digest={wrong}", b"data")
    assert r.status == 400 and codes(r) == ["DIGEST_INVALID"]
    assert client("HEAD", f"/v2/c/blobs/{wrong}").status == 404
    assert [p for p in (tmp_path / "root" / "blobs").rglob("*") if p.is_file()] == []
    assert list((tmp_path / "root" / "uploads").iterdir()) == []


def test_upload_cancel_and_foreign_session(client):
    loc = header(client("POST", "/v2/c/blobs/uploads/"), "Location")
    uuid = loc.rsplit("/", 1)[1]
    assert client("GET", f"/v2/other/blobs/uploads/{uuid}").status == 404
    assert client("GET", "/v2/c/blobs/uploads/..%2f..%2fx").status == 404
    assert client("DELETE", loc).status == 204
    r = client("PATCH", loc, b"x")
    assert r.status == 404 and codes(r) == ["BLOB_UPLOAD_UNKNOWN"]


def test_cross_repository_mount(client):
    d = client.push_blob("src", b"shared layer")
    r = client("POST", f"/v2/dst/blobs/uploads/?mount={d}&from=src")
    assert r.status == 201 and header(r, "Docker-Content-Digest") == d
    assert client("HEAD", f"/v2/dst/blobs/{d}").status == 200
    r = client("POST", f"/v2/dst2/blobs/uploads/?mount={d}&from=nowhere")
    assert r.status == 202 and header(r, "Location")  # falls back to an upload


def test_manifest_push_pull_by_tag_and_digest(client):
    d, body = client.push_image("app", "v1")
    for ref in ("v1", d):
        r = client("GET", f"/v2/app/manifests/{ref}", accept=OCI_MANIFEST)
        assert r.status == 200 and body_of(r) == body
        assert header(r, "Docker-Content-Digest") == d and header(r, "Content-Type") == OCI_MANIFEST
    r = client("HEAD", "/v2/app/manifests/v1")
    assert r.status == 200 and len(r.body) == len(body)
    assert client("GET", "/v2/app/manifests/v2").status == 404


def test_manifest_by_digest_must_match(client):
    d, body = client.push_image("app", "v1")
    other = "sha256:" + "0" * 64
    r = client("PUT", f"/v2/app/manifests/{other}", body, content_type=OCI_MANIFEST)
    assert r.status == 400 and codes(r) == ["DIGEST_INVALID"]
    r = client("PUT", f"/v2/app/manifests/{d}", body, content_type=OCI_MANIFEST)
    assert r.status == 201


def test_manifest_with_unknown_blobs_is_rejected(client):
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "x", "digest": "sha256:" + "1" * 64, "size": 1},
        "layers": [{"mediaType": "x", "digest": "sha256:" + "2" * 64, "size": 1}],
    }
    r = client("PUT", "/v2/app/manifests/v1", json.dumps(doc).encode(), content_type=OCI_MANIFEST)
    assert r.status == 400 and codes(r) == ["MANIFEST_BLOB_UNKNOWN"] * 2


def test_index_needs_its_manifests_and_is_negotiated(client):
    d, body = client.push_image("app", "v1")
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": d, "size": len(body)}],
    }
    data = json.dumps(index).encode()
    assert client("PUT", "/v2/other/manifests/multi", data, content_type=OCI_INDEX).status == 400
    assert client("PUT", "/v2/app/manifests/multi", data, content_type=OCI_INDEX).status == 201
    docker_only = "application/vnd.docker.distribution.manifest.v2+json"
    assert client("GET", "/v2/app/manifests/multi", accept=docker_only).status == 404
    assert client("GET", "/v2/app/manifests/multi", accept=OCI_INDEX).status == 200
    assert client("GET", f"/v2/app/manifests/{digest(data)}", accept=docker_only).status == 200


def test_huge_manifest_is_413(client):
    r = client(
        "PUT", "/v2/app/manifests/big", b"{" + b" " * (5 << 20) + b"}", content_type=OCI_MANIFEST
    )
    assert r.status == 413


def test_tags_catalog_pagination(client):
    for tag in ["b", "a", "d", "c"]:
        client.push_image("app", tag)
    client.push_image("lib/x", "1")
    r = client("GET", "/v2/app/tags/list?n=2")
    assert json.loads(r.body) == {"name": "app", "tags": ["a", "b"]}
    assert header(r, "Link") == '</v2/app/tags/list?n=2&last=b>; rel="next"'
    r = client("GET", "/v2/app/tags/list?n=2&last=b")
    assert json.loads(r.body)["tags"] == ["c", "d"] and header(r, "Link") is None
    r = client("GET", "/v2/app/tags/list?n=0")
    assert json.loads(r.body)["tags"] == [] and header(r, "Link") is None
    assert json.loads(client("GET", "/v2/_catalog").body) == {"repositories": ["app", "lib/x"]}
    r = client("GET", "/v2/_catalog?n=1")
    assert json.loads(r.body)["repositories"] == ["app"] and "last=app" in header(r, "Link")
    r = client("GET", "/v2/nope/tags/list")
    assert r.status == 404 and codes(r) == ["NAME_UNKNOWN"]


def test_delete_tag_and_manifest(client):
    d, _ = client.push_image("app", "v1")
    client.push_image("app", "v2")
    assert client("DELETE", "/v2/app/manifests/v2").status == 202
    assert client("GET", "/v2/app/manifests/v2").status == 404
    assert client("GET", f"/v2/app/manifests/{d}").status == 200  # v1 and v2 share the manifest
    assert client("DELETE", f"/v2/app/manifests/{d}").status == 202
    assert client("GET", "/v2/app/manifests/v1").status == 404
    assert json.loads(client("GET", "/v2/app/tags/list").body)["tags"] == []
    assert client("DELETE", f"/v2/app/manifests/{d}").status == 404


def test_referrers_with_filter(client):
    subject, body = client.push_image("app", "v1")
    subj = {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(body)}
    r1, _ = client.push_image(
        "app",
        "sig",
        layer=b"sig",
        artifactType="application/x-sig",
        subject=subj,
        annotations={"k": "v"},
    )
    r2, _ = client.push_image(
        "app", "sbom", layer=b"sbom", artifactType="application/x-sbom", subject=subj
    )
    r = client("GET", f"/v2/app/referrers/{subject}")
    assert r.status == 200 and header(r, "Content-Type") == OCI_INDEX
    found = json.loads(r.body)["manifests"]
    assert {m["digest"] for m in found} == {r1, r2}
    r = client("GET", f"/v2/app/referrers/{subject}?artifactType=application/x-sig")
    assert [m["digest"] for m in json.loads(r.body)["manifests"]] == [r1]
    assert header(r, "OCI-Filters-Applied") == "artifactType"
    assert json.loads(r.body)["manifests"][0]["annotations"] == {"k": "v"}
    client("DELETE", f"/v2/app/manifests/{r1}")
    r = client("GET", f"/v2/app/referrers/{subject}")
    assert [m["digest"] for m in json.loads(r.body)["manifests"]] == [r2]
    assert client("GET", "/v2/app/referrers/sha256:zz").status == 400
    assert json.loads(client("GET", f"/v2/empty/referrers/{subject}").body)["manifests"] == []


def test_subject_header_on_push(client):
    subject = "sha256:" + "9" * 64  # may not exist yet
    cfg = client.push_blob("app", b"{}")
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/x-a",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": cfg, "size": 2},
        "layers": [],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 1},
    }
    r = client("PUT", "/v2/app/manifests/art", json.dumps(doc).encode(), content_type=OCI_MANIFEST)
    assert r.status == 201 and header(r, "OCI-Subject") == subject


@pytest.mark.parametrize(
    "target",
    [
        "/v2/../etc/manifests/x",
        "/v2/UPPER/tags/list",
        "/v2/a//b/blobs/uploads/",
        "/v2/_x/manifests/latest",
    ],
)
def test_bad_names(client, target):
    method = "POST" if target.endswith("uploads/") else "GET"
    r = client(method, target)
    assert r.status == 400 and codes(r) == ["NAME_INVALID"]


def test_bad_digests_and_references(client):
    assert codes(client("GET", "/v2/a/blobs/sha256:xyz")) == ["DIGEST_INVALID"]
    assert codes(client("GET", "/v2/a/manifests/.bad")) == ["MANIFEST_INVALID"]
    assert codes(client("PUT", "/v2/a/blobs/uploads/" + "0" * 32)) == ["DIGEST_INVALID"]
    assert client("GET", "/v3/").status == 404


def test_read_only_mode(tmp_path):
    c = Client(RegistryApp(Stores.open(tmp_path / "r"), read_only=True))
    r = c("POST", "/v2/a/blobs/uploads/")
    assert r.status == 405 and codes(r) == ["UNSUPPORTED"]
    assert c("GET", "/v2/").status == 200


def test_metrics_count_requests(client):
    client("GET", "/v2/")
    r = client("GET", "/metrics")
    assert b'registry_http_requests_total{method="GET",route="base",status="200"} 1' in r.body
