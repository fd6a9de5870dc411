"""Pure parts of the registry: names, references, ranges, pagination, manifests, errors."""

from __future__ import annotations

import json

import pytest

from dockwright.registry.errors import RegistryError
from dockwright.registry.layout import Layout
from dockwright.registry.manifests import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    accepts,
    parse_manifest,
    referrer_descriptor,
)
from dockwright.registry.names import check_digest, check_name, check_reference
from dockwright.registry.paging import link_header, page_args, paginate
from dockwright.registry.ranges import byte_range, content_range

pytestmark = pytest.mark.unit

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    "name", ["a", "library/busybox", "a.b/c_d/e__f/g--h", "x" * 255, "0/1/2/3/4/5"]
)
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "A",
        "../etc",
        "a/../b",
        "a//b",
        "/a",
        "a/",
        "_a",
        "a/_layers",
        "a..b",
        "a___b",
        "a/.hidden",
        "x" * 256,
        "a b",
        "a%2f..",
        "a\x00b",
    ],
)
def test_invalid_names(name):
    with pytest.raises(RegistryError) as exc:
        check_name(name)
    assert exc.value.code == "NAME_INVALID" and exc.value.status == 400


def test_references_are_tags_or_digests():
    assert check_reference("v1.0_rc-1") == "v1.0_rc-1"
    assert check_reference(D1) == D1
    for bad in [".hidden", "..", "-x", "a" * 129, "sha256:abc", "a/b", ""]:
        with pytest.raises(RegistryError):
            check_reference(bad)


def test_digests_are_checked():
    assert check_digest("sha512:" + "0" * 128)
    for bad in ["sha256:" + "A" * 64, "md5:" + "0" * 32, "sha256:" + "0" * 63, "sha256:../x"]:
        with pytest.raises(RegistryError) as exc:
            check_digest(bad)
        assert exc.value.code == "DIGEST_INVALID"


def test_layout_paths_stay_under_root(tmp_path):
    layout = Layout(tmp_path)
    assert layout.blob(D1) == tmp_path / "blobs" / "sha256" / ("a" * 64)
    assert layout.tag("a/b", "v1") == tmp_path / "repositories/a/b/_tags/v1"
    assert layout.referrer("a", D1, D2).name == "sha256-" + "b" * 64
    with pytest.raises(RegistryError):
        layout.repo("../../etc")


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-500", 100, (0, 99)),
        ("bytes=50-500", 100, (50, 99)),
        ("", 100, None),
        ("bytes=1-2,5-6", 100, None),
        ("items=1-2", 100, None),
    ],
)
def test_byte_range(header, size, expected):
    assert byte_range(header, size) == expected


def test_byte_range_past_end_is_416():
    with pytest.raises(RegistryError) as exc:
        byte_range("bytes=100-", 100)
    assert exc.value.status == 416


def test_content_range():
    assert content_range("0-99") == (0, 99)
    assert content_range("bytes 100-199/*") == (100, 199)
    for bad in ["5-1", "abc", "-1-2"]:
        with pytest.raises(RegistryError) as exc:
            content_range(bad)
        assert exc.value.status == 416


def test_paginate_and_link():
    items = ["a", "b", "c", "d"]
    assert paginate(items, None, "") == (items, False)
    assert paginate(items, 2, "") == (["a", "b"], True)
    assert paginate(items, 2, "b") == (["c", "d"], False)
    assert paginate(items, 0, "") == ([], False)
    assert paginate(items, None, "c") == (["d"], False)
    assert (
        link_header("/v2/x/tags/list", 2, ["a", "b"]) == '</v2/x/tags/list?n=2&last=b>; rel="next"'
    )
    assert page_args({"n": "5", "last": "x"}) == (5, "x")
    with pytest.raises(RegistryError):
        page_args({"n": "-1"})


def _image(media_type=OCI_MANIFEST, **extra):
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": D1,
            "size": 2,
        },
        "layers": [{"mediaType": "x", "digest": D2, "size": 3}],
        **extra,
    }
    return json.dumps(doc).encode()


def test_parse_image_manifest():
    m = parse_manifest(_image(), OCI_MANIFEST)
    assert m.media_type == OCI_MANIFEST and m.blobs == (D1, D2) and m.manifests == ()
    assert m.artifact_type == "application/vnd.oci.image.config.v1+json"


def test_parse_docker_manifest_by_content_type_and_foreign_layers():
    doc = json.loads(_image(DOCKER_MANIFEST))
    doc["layers"][0]["urls"] = ["https://example.com/layer"]
    m = parse_manifest(json.dumps(doc).encode(), DOCKER_MANIFEST + "; charset=utf-8")
    assert m.media_type == DOCKER_MANIFEST and m.blobs == (D1,)


def test_parse_index_and_subject():
    body = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": D1, "size": 5}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": D2, "size": 7},
            "artifactType": "application/x-sig",
            "annotations": {"k": "v"},
        }
    ).encode()
    m = parse_manifest(body, "application/octet-stream")
    assert m.media_type == OCI_INDEX and m.manifests == (D1,) and m.subject == D2
    desc = referrer_descriptor(m, D1, 10)
    assert desc == {
        "mediaType": OCI_INDEX,
        "digest": D1,
        "size": 10,
        "artifactType": "application/x-sig",
        "annotations": {"k": "v"},
    }


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", OCI_MANIFEST),
        (b"[]", OCI_MANIFEST),
        (b'{"schemaVersion": 1}', OCI_MANIFEST),
        (_image(), DOCKER_MANIFEST),  # mediaType disagrees with Content-Type
        (_image(media_type="application/x-unknown"), "application/x-unknown"),
        (
            json.dumps(
                {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": "x"}}
            ).encode(),
            OCI_MANIFEST,
        ),
        (
            json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": {}}).encode(),
            DOCKER_LIST,
        ),
    ],
)
def test_invalid_manifests(body, content_type):
    with pytest.raises(RegistryError) as exc:
        parse_manifest(body, content_type)
    assert exc.value.code == "MANIFEST_INVALID"


def test_accepts_withholds_only_unnamed_indexes():
    assert accepts([""], OCI_INDEX)
    assert accepts([f"{DOCKER_MANIFEST}, {OCI_MANIFEST}"], DOCKER_MANIFEST)
    assert accepts([DOCKER_MANIFEST], OCI_MANIFEST)
    assert not accepts([DOCKER_MANIFEST], OCI_INDEX)
    assert accepts([f"{DOCKER_MANIFEST};q=0.5", "application/*, */*"], OCI_INDEX)


def test_error_body_lists_every_error():
    exc = RegistryError(
        "MANIFEST_BLOB_UNKNOWN",
        "missing",
        {"digest": D1},
        extra=[("MANIFEST_BLOB_UNKNOWN", {"digest": D2})],
    )
    doc = json.loads(exc.body())
    assert [e["code"] for e in doc["errors"]] == ["MANIFEST_BLOB_UNKNOWN"] * 2
    assert doc["errors"][1]["detail"] == {"digest": D2}
    assert exc.status == 400
