"""Pull and push between dockwrightd and a real registry, with the docker CLI and docker-py."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path

import pytest
import zstandard

pytestmark = pytest.mark.integration

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def config_for(arch: str, diff_ids: list[str]) -> bytes:
    return json.dumps({
        "architecture": arch, "os": "linux", "created": "2024-01-02T03:04:05Z",
        "config": {"Cmd": ["/bin/sh"], "Labels": {"arch": arch}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-02T03:04:05Z", "created_by": "test"}],
    }).encode()  # fmt: skip


LAYER_MEDIA = {
    (False, "gzip"): "application/vnd.docker.image.rootfs.diff.tar.gzip",
    (True, "gzip"): "application/vnd.oci.image.layer.v1.tar+gzip",
    (True, "zstd"): "application/vnd.oci.image.layer.v1.tar+zstd",
    (True, ""): "application/vnd.oci.image.layer.v1.tar",
}


def publish_image(reg, repo: str, arch: str, oci: bool, compress: str) -> dict:
    """Upload a one-layer image; returns its manifest descriptor (with platform)."""
    tar = layer_tar({f"etc/{arch}": f"{arch} {repo}\n".encode()})  # unique per repo
    blob = {"gzip": lambda: gzip.compress(tar, mtime=0),
            "zstd": lambda: zstandard.ZstdCompressor().compress(tar),
            "": lambda: tar}[compress]()  # fmt: skip
    layer_media = LAYER_MEDIA[(oci, compress)]
    config = config_for(arch, [sha(tar)])
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json" if oci else
                   "application/vnd.docker.container.image.v1+json",
                   "digest": reg.put_blob(repo, config), "size": len(config)},
        "layers": [{"mediaType": layer_media, "digest": reg.put_blob(repo, blob),
                    "size": len(blob)}],
    }  # fmt: skip
    media = doc["mediaType"]
    digest = reg.put_manifest(repo, sha(json.dumps(doc).encode()), doc, media)
    size = len(json.dumps(doc).encode())
    return {"mediaType": media, "digest": digest, "size": size,
            "platform": {"os": "linux", "architecture": arch}, "_config": sha(config), "_doc": doc}  # fmt: skip


def stream_messages(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def layer_dirs(daemon) -> set[str]:
    return {p.name for p in (daemon.root / "data" / "layers").iterdir()}


def blobs(daemon) -> set[str]:
    return {p.name for p in (daemon.root / "data" / "content" / "blobs" / "sha256").iterdir()}


def test_push_rmi_pull_with_docker_cli(daemon, registry) -> None:
    name = f"{registry.host}/bb:1"
    assert daemon.docker("tag", "busybox", name).returncode == 0
    pushed = daemon.docker("push", name)
    assert pushed.returncode == 0, pushed.stderr
    assert "Pushed" in pushed.stdout and "1: digest: sha256:" in pushed.stdout
    digest = pushed.stdout.split("digest: ")[1].split()[0]
    again = daemon.docker("push", name)
    assert "Layer already exists" in again.stdout, again.stdout
    image_id = daemon.client().images.get(name).id
    assert daemon.docker("rmi", name).returncode == 0
    pulled = daemon.docker("pull", name)
    assert pulled.returncode == 0, pulled.stderr
    assert f"Digest: {digest}" in pulled.stdout
    assert f"Status: Downloaded newer image for {name}" in pulled.stdout
    info = daemon.client().images.get(name)
    assert info.id == image_id
    assert f"{registry.host}/bb@{digest}" in info.attrs["RepoDigests"]
    run = daemon.docker("run", "--rm", name, "echo", "pulled-ok")
    assert run.stdout.strip() == "pulled-ok", run.stderr
    same = daemon.docker("pull", name)
    assert "Already exists" in same.stdout and "Image is up to date" in same.stdout
    by_digest = daemon.docker("pull", f"{registry.host}/bb@{digest}")
    assert by_digest.returncode == 0, by_digest.stderr


def test_docker_py_pull_and_progress_stream(daemon, registry) -> None:
    reg_image = publish_image(registry, "py/img", "amd64", oci=False, compress="gzip")
    client = daemon.client()
    image = client.images.pull(f"{registry.host}/py/img", tag=reg_image["digest"])
    assert image.id == reg_image["_config"]
    status, body = daemon.request("POST", f"/images/create?fromImage={registry.host}/py/img"
                                  f"&tag={reg_image['digest']}")  # fmt: skip
    assert status == 200
    statuses = [m.get("status", "") for m in stream_messages(body)]
    assert statuses[0] == "Pulling from py/img"
    assert any(s == "Already exists" for s in statuses)
    assert statuses[-2] == f"Digest: {reg_image['digest']}"
    client.images.remove(image.id, force=True)


def test_pull_errors_before_streaming(daemon, registry) -> None:
    status, body = daemon.request("POST", f"/images/create?fromImage={registry.host}/bb&tag=nope")
    assert status == 404
    assert "manifest unknown" in json.loads(body)["message"]
    out = daemon.docker("pull", f"{registry.host}/nothing/here:1")
    assert out.returncode != 0 and "not found" in out.stderr


def test_multi_arch_index_selects_platform(daemon, registry) -> None:
    amd = publish_image(registry, "multi", "amd64", oci=True, compress="gzip")
    arm = publish_image(registry, "multi", "arm64", oci=True, compress="")
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
             "manifests": [{k: v for k, v in d.items() if not k.startswith("_")} for d in (arm, amd)]}  # fmt: skip
    registry.put_manifest("multi", "v1", index, OCI_INDEX)
    name = f"{registry.host}/multi:v1"
    out = daemon.docker("pull", name)
    assert out.returncode == 0, out.stderr
    assert daemon.client().images.get(name).id == amd["_config"]
    out = daemon.docker("pull", "--platform", "linux/arm64", name)
    assert out.returncode == 0, out.stderr
    image = daemon.client().images.get(name)
    assert image.id == arm["_config"]
    assert image.attrs["Architecture"] == "arm64"
    for ref in (name, amd["_config"], arm["_config"]):
        daemon.docker("rmi", "-f", ref)


@pytest.mark.parametrize("damage", ["flipped", "truncated"])
def test_corrupted_layer_rejected_and_nothing_left(daemon, registry, damage: str) -> None:
    image = publish_image(registry, f"bad-{damage}", "amd64", oci=False, compress="gzip")
    layer_digest = image["_doc"]["layers"][0]["digest"]
    path = registry.blob_path(layer_digest)
    data = bytearray(path.read_bytes())
    if damage == "flipped":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[len(data) // 2 :]
    path.write_bytes(bytes(data))
    before_layers, before_blobs = layer_dirs(daemon), blobs(daemon)
    out = daemon.docker("pull", f"{registry.host}/bad-{damage}@{image['digest']}")
    assert out.returncode != 0
    assert layer_digest in out.stderr or "invalid" in out.stderr, out.stderr
    assert layer_dirs(daemon) == before_layers
    assert blobs(daemon) == before_blobs
    ingest = daemon.root / "data" / "content" / "ingest"
    assert os.listdir(ingest) == []
    assert daemon.docker("image", "inspect", image["_config"]).returncode != 0


def test_basic_auth_login_push_pull(daemon, auth_registry, tmp_path: Path) -> None:
    name = f"{auth_registry.host}/priv/bb:1"
    env_cfg = {"DOCKER_CONFIG": str(tmp_path)}
    assert daemon.docker("tag", "busybox", name).returncode == 0
    denied = daemon.docker("push", name)
    assert "denied" in denied.stdout + denied.stderr
    os.environ.update(env_cfg)
    try:
        bad = daemon.docker("login", "-u", "alice", "--password-stdin", auth_registry.host,
                            input=b"wrong\n")  # fmt: skip
        assert bad.returncode != 0 and b"401 Unauthorized" in bad.stderr
        good = daemon.docker("login", "-u", "alice", "--password-stdin", auth_registry.host,
                             input=b"s3cret\n")  # fmt: skip
        assert good.returncode == 0 and b"Login Succeeded" in good.stdout
        pushed = daemon.docker("push", name)
        assert pushed.returncode == 0 and "Pushed" in pushed.stdout, pushed.stdout
        assert daemon.docker("rmi", name).returncode == 0
        pulled = daemon.docker("pull", name)
        assert pulled.returncode == 0, pulled.stderr
    finally:
        for key in env_cfg:
            os.environ.pop(key)
    anonymous = daemon.docker("pull", name)
    assert anonymous.returncode != 0 and "pull access denied" in anonymous.stderr
    client = daemon.client()
    client.images.remove(name)
    with pytest.raises(Exception, match="pull access denied"):
        client.images.pull(f"{auth_registry.host}/priv/bb", tag="1")
    image = client.images.pull(f"{auth_registry.host}/priv/bb", tag="1",
                               auth_config={"username": "alice", "password": "s3cret"})  # fmt: skip
    assert name in image.tags


def test_zstd_layer_pull_and_push_keeps_it(daemon, registry) -> None:
    image = publish_image(registry, "zst", "amd64", oci=True, compress="zstd")
    name = f"{registry.host}/zst:1"
    registry.put_manifest("zst", "1", image["_doc"], OCI_MANIFEST)
    pulled = daemon.docker("pull", name)
    assert pulled.returncode == 0, pulled.stderr
    assert daemon.client().images.get(name).id == image["_config"]
    copy = f"{registry.host}/zst-copy:1"
    assert daemon.docker("tag", name, copy).returncode == 0
    pushed = daemon.docker("push", copy)
    assert pushed.returncode == 0, pushed.stderr
    body = registry.get_manifest("zst-copy", "1")
    doc = json.loads(body)
    assert doc["mediaType"] == OCI_MANIFEST
    assert doc["layers"][0]["mediaType"] == LAYER_MEDIA[(True, "zstd")]
    daemon.docker("rmi", "-f", image["_config"])


def test_push_to_another_repository_mounts_instead_of_uploading(daemon, registry) -> None:
    first, second = f"{registry.host}/mnt/one:1", f"{registry.host}/mnt/two:1"
    for name in (first, second):
        assert daemon.docker("tag", "busybox", name).returncode == 0
    assert daemon.docker("push", first).returncode == 0
    pushed = daemon.docker("push", second)
    assert pushed.returncode == 0, pushed.stderr
    assert "Mounted from " in pushed.stdout and "Pushed" not in pushed.stdout, pushed.stdout
    assert registry.get_manifest("mnt/two", "1")
    for name in (first, second):
        daemon.docker("rmi", name)


def test_push_unknown_tag_save_unknown_and_login(daemon, registry) -> None:
    out = daemon.docker("push", f"{registry.host}/none/such:1")
    assert out.returncode != 0
    assert f"An image does not exist locally with the tag: {registry.host}/none/such" in out.stderr
    status, body = daemon.request("GET", "/images/get?names=none/such:1")
    assert status == 404, body
    client = daemon.client()
    answer = client.login("anyone", "anything", registry=f"http://{registry.host}")
    assert answer["Status"] == "Login Succeeded"


def test_pull_publishes_an_event(daemon, registry) -> None:
    image = publish_image(registry, "ev/img", "amd64", oci=False, compress="gzip")
    registry.put_manifest("ev/img", "1", image["_doc"], DOCKER_MANIFEST)
    since = str(int(time.time()) - 1)
    assert daemon.docker("pull", f"{registry.host}/ev/img:1").returncode == 0
    until = str(int(time.time()) + 1)
    events = daemon.docker("events", "--since", since, "--until", until, "--filter",
                           "type=image", "--format", "{{.Action}} {{.Actor.ID}}")  # fmt: skip
    assert f"pull {registry.host}/ev/img:1" in events.stdout, events.stdout + events.stderr
    daemon.docker("rmi", f"{registry.host}/ev/img:1")


@pytest.mark.parametrize("chunk", [None, 1000])
def test_client_uploads_monolithic_and_chunked(registry, chunk) -> None:
    from dockwright.distribution.client import RegistryClient
    from dockwright.distribution.endpoint import endpoints

    data = os.urandom(4500)
    client = RegistryClient(endpoints(registry.host)[-1], "up/load", actions="pull,push")
    assert not client.has_blob(sha(data))
    assert client.upload_blob(sha(data), len(data), io.BytesIO(data), chunk=chunk) is False
    assert client.has_blob(sha(data))
    assert client.open_blob(sha(data)).read() == data
    other = RegistryClient(
        endpoints(registry.host)[-1], f"up/other{chunk or 0}", actions="pull,push"
    )
    assert other.upload_blob(sha(data), len(data), io.BytesIO(b""), mount_from="up/load") is True


def test_pull_all_tags(daemon, registry) -> None:
    images = {
        t: publish_image(registry, "alltags", t, oci=False, compress="gzip") for t in ("a", "b")
    }
    for t, image in images.items():
        registry.put_manifest("alltags", t, image["_doc"], DOCKER_MANIFEST)
    out = daemon.docker("pull", "-a", f"{registry.host}/alltags")
    assert out.returncode == 0, out.stderr
    assert f"Status: Downloaded newer image for {registry.host}/alltags" in out.stdout
    for t, image in images.items():
        assert daemon.client().images.get(f"{registry.host}/alltags:{t}").id == image["_config"]
        daemon.docker("rmi", f"{registry.host}/alltags:{t}")
