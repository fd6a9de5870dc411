"""Pure parts of distribution: manifests, platforms, challenges, endpoints, plans, progress."""

from __future__ import annotations

import base64
import json

import pytest

from dockwright.distribution import auth, manifest, plan
from dockwright.distribution import progress as pg
from dockwright.distribution.endpoint import endpoints, is_insecure
from dockwright.distribution.service import login_domain, pull_reference
from dockwright.errors import InvalidParameter, NotFound
from dockwright.image.layers import chain_id

pytestmark = pytest.mark.unit

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def index_doc(*platforms: dict) -> bytes:
    items = [{"mediaType": manifest.OCI_MANIFEST, "digest": f"sha256:{str(i) * 64}", "size": 10,
              "platform": p} for i, p in enumerate(platforms, start=1)]  # fmt: skip
    return json.dumps({"schemaVersion": 2, "mediaType": manifest.OCI_INDEX,
                       "manifests": items}).encode()  # fmt: skip


def test_parse_docker_manifest() -> None:
    doc = {"schemaVersion": 2, "mediaType": manifest.DOCKER_MANIFEST,
           "config": {"mediaType": manifest.DOCKER_CONFIG, "digest": D1, "size": 5},
           "layers": [{"mediaType": manifest.DOCKER_LAYER, "digest": D2, "size": 7}]}  # fmt: skip
    m = manifest.parse(json.dumps(doc).encode())
    assert isinstance(m, manifest.Manifest)
    assert m.config.digest == D1 and m.layers[0] == manifest.Descriptor(
        manifest.DOCKER_LAYER, D2, 7
    )


def test_parse_uses_header_type_when_body_has_none() -> None:
    body = index_doc({"os": "linux", "architecture": "amd64"})
    doc = json.loads(body)
    del doc["mediaType"]
    parsed = manifest.parse(json.dumps(doc).encode(), manifest.DOCKER_LIST)
    assert isinstance(parsed, manifest.Index) and parsed.media_type == manifest.DOCKER_LIST


@pytest.mark.parametrize(
    "body, message",
    [
        (b"not json", "invalid manifest json"),
        (b'{"schemaVersion": 1, "fsLayers": []}', "schema 1"),
        (b'{"mediaType": "application/x-foo"}', "unsupported manifest media type"),
        (json.dumps({"config": {"digest": "md5:x", "size": 1}}).encode(), "unsupported digest"),
    ],
)
def test_parse_rejects(body: bytes, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        manifest.parse(body)


def test_select_platform_default_variant_and_missing() -> None:
    idx = manifest.parse(index_doc(
        {"os": "linux", "architecture": "arm", "variant": "v7"},
        {"os": "linux", "architecture": "arm64"},
        {"os": "unknown", "architecture": "unknown"},
        {"os": "linux", "architecture": "amd64"},
    ))  # fmt: skip
    assert isinstance(idx, manifest.Index)
    assert manifest.select(idx, manifest.parse_platform(None)).digest == "sha256:" + "4" * 64
    assert manifest.select(idx, manifest.parse_platform("linux/arm64/v8")).digest == D2
    assert manifest.select(idx, manifest.parse_platform("linux/arm/v7")).digest == D1
    with pytest.raises(NotFound, match="no matching manifest for linux/s390x"):
        manifest.select(idx, manifest.parse_platform("linux/s390x"))


def test_parse_platform() -> None:
    assert manifest.parse_platform("linux/aarch64") == manifest.Platform("linux", "arm64")
    assert str(manifest.parse_platform("", "arm64")) == "linux/arm64"
    with pytest.raises(InvalidParameter):
        manifest.parse_platform("linux//v7")


def test_encode_manifest_oci_converts_media_types() -> None:
    body, media = manifest.encode_manifest(
        manifest.Descriptor(manifest.DOCKER_CONFIG, D1, 3),
        [manifest.Descriptor(manifest.DOCKER_LAYER, D2, 4)], oci=True,
    )  # fmt: skip
    doc = json.loads(body)
    assert media == manifest.OCI_MANIFEST == doc["mediaType"]
    assert doc["config"]["mediaType"] == manifest.OCI_CONFIG
    assert doc["layers"][0] == {"mediaType": manifest.OCI_LAYER_GZIP, "digest": D2, "size": 4}


def test_challenges() -> None:
    header = ('Bearer realm="https://auth.example/token",service="registry.example",'
              'scope="repository:a/b:pull,push", Basic realm="x"')  # fmt: skip
    bearer, basic = auth.parse_challenges(header)
    assert bearer.scheme == "bearer" and bearer.params["service"] == "registry.example"
    assert bearer.params["scope"] == "repository:a/b:pull,push"
    assert basic == auth.Challenge("basic", {"realm": "x"})
    url = auth.token_url(bearer, [auth.scope("a/b", "pull")])
    assert url == ("https://auth.example/token?service=registry.example"
                   "&scope=repository%3Aa%2Fb%3Apull")  # fmt: skip
    with pytest.raises(InvalidParameter, match="without realm"):
        auth.token_url(auth.Challenge("bearer", {}), [])


def test_auth_header_decoding() -> None:
    raw = json.dumps({"username": "u", "password": "p?>", "serveraddress": "r"}).encode()
    header = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    creds = auth.decode_auth_header(header)
    assert creds == auth.Credentials("u", "p?>")
    assert creds.basic() == "Basic " + base64.b64encode(b"u:p?>").decode()
    assert auth.decode_auth_header(None).anonymous
    assert auth.decode_auth_header(base64.b64encode(b"{}").decode()).anonymous
    with pytest.raises(InvalidParameter, match="X-Registry-Auth"):
        auth.decode_auth_header("!!!")
    assert auth.token_from_response(b'{"access_token": "t"}') == "t"
    with pytest.raises(InvalidParameter, match="no token"):
        auth.token_from_response(b"{}")


def test_endpoints_and_insecure() -> None:
    assert is_insecure("127.0.0.1:5000") and is_insecure("localhost:5000")
    assert is_insecure("127.3.4.5") and is_insecure("[::1]:5000")
    assert not is_insecure("registry.example:5000")
    assert is_insecure("10.1.2.3:5000", ["10.0.0.0/8"])
    assert is_insecure("reg.lan:5000", ["reg.lan:5000"])
    assert [e.base for e in endpoints("docker.io")] == ["https://registry-1.docker.io"]
    eps = endpoints("127.0.0.1:5000", mirrors=["http://mirror:5000/"])
    assert [e.base for e in eps] == ["http://mirror:5000", "http://127.0.0.1:5000"]


def _manifest(*layers: manifest.Descriptor) -> manifest.Manifest:
    return manifest.Manifest(manifest.DOCKER_MANIFEST,
                             manifest.Descriptor(manifest.DOCKER_CONFIG, D3, 1), layers)  # fmt: skip


def test_plan_pull_marks_present_chains() -> None:
    m = _manifest(manifest.Descriptor(manifest.DOCKER_LAYER, D1, 1),
                  manifest.Descriptor(manifest.OCI_LAYER_ZSTD, D2, 2))  # fmt: skip
    base = chain_id(None, D3)
    steps = plan.plan_pull(m, [D3, D1], lambda c: c == base)
    assert [s.present for s in steps] == [True, False]
    assert steps[1].parent == base and steps[1].chain == chain_id(base, D1)


def test_plan_pull_rejects_mismatch_and_unknown_media() -> None:
    with pytest.raises(InvalidParameter, match="1 layers, config has 2"):
        plan.plan_pull(_manifest(manifest.Descriptor(manifest.DOCKER_LAYER, D1, 1)), [D1, D2],
                       lambda c: False)  # fmt: skip
    with pytest.raises(InvalidParameter, match="unsupported layer media type"):
        plan.plan_pull(_manifest(manifest.Descriptor("text/plain", D1, 1)), [D1], lambda c: False)
    with pytest.raises(InvalidParameter, match="image config digest mismatch"):
        plan.check_bytes(b"x", D1, "image config")


def test_progress_messages() -> None:
    assert pg.short_id(D1) == "1" * 12
    assert pg.human_size(1_234_567) == "1.23MB"
    msg = pg.moving("Downloading", "abc", 50, 100)
    assert msg["progressDetail"] == {"current": 50, "total": 100}
    assert msg["progress"].startswith("[" + "=" * 24 + ">") and msg["progress"].endswith("/100B")
    assert pg.error("boom") == {"errorDetail": {"message": "boom"}, "error": "boom"}
    seen: list[dict] = []
    meter = pg.Meter(seen.append, "Downloading", "abc", 10)
    meter.add(4)
    meter.add(3)  # within the interval: not reported
    meter.add(3)  # complete: always reported
    assert [m["progressDetail"]["current"] for m in seen] == [4, 10]


def test_pull_reference_and_login_domain() -> None:
    assert str(pull_reference("busybox", None)) == "docker.io/library/busybox"  # all tags
    assert str(pull_reference("busybox:1", None)) == "docker.io/library/busybox:1"
    assert str(pull_reference("127.0.0.1:5000/a", "v1")) == "127.0.0.1:5000/a:v1"
    assert pull_reference("a", D1).digest == D1
    assert login_domain("https://index.docker.io/v1/") == "docker.io"
    assert login_domain("127.0.0.1:5000") == "127.0.0.1:5000"
