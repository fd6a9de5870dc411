"""docker save / docker load through dockwrightd: our archives, docker's, and skopeo's OCI ones."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def sha_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def add(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tf.addfile(info, io.BytesIO(data))


def layer(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            add(tf, name, data)
    return buf.getvalue()


def legacy_archive() -> tuple[bytes, str]:
    """An archive as `docker save` wrote it before 25.0: <id>/layer.tar, <config>.json, a
    symlinked duplicate layer; returns it and the image id."""
    base = layer({"etc/os-release": b"ID=test\n"})
    top = layer({"etc/motd": b"legacy\n"})
    diff_ids = [f"sha256:{sha_hex(base)}", f"sha256:{sha_hex(top)}", f"sha256:{sha_hex(base)}"]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "created": "2023-05-06T07:08:09Z", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()  # fmt: skip
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        add(tf, "aaaa/layer.tar", base)
        add(tf, "aaaa/VERSION", b"1.0")
        add(tf, "bbbb/layer.tar", top)
        link = tarfile.TarInfo("cccc/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, "../aaaa/layer.tar"
        tf.addfile(link)
        add(tf, "../escape", b"never written")
        add(tf, f"{sha_hex(config)}.json", config)
        manifest = [{"Config": f"{sha_hex(config)}.json", "RepoTags": ["legacy/img:v1"],
                     "Layers": ["aaaa/layer.tar", "bbbb/layer.tar", "cccc/layer.tar"]}]  # fmt: skip
        add(tf, "manifest.json", json.dumps(manifest).encode())
        add(tf, "repositories", b'{"legacy/img": {"v1": "cccc"}}')
    return buf.getvalue(), f"sha256:{sha_hex(config)}"


def test_save_then_load_round_trip(daemon, tmp_path: Path) -> None:
    assert daemon.docker("tag", "busybox", "saved/bb:1").returncode == 0
    image_id = daemon.client().images.get("saved/bb:1").id
    archive = tmp_path / "bb.tar"
    out = daemon.docker("save", "-o", str(archive), "saved/bb:1")
    assert out.returncode == 0, out.stderr
    with tarfile.open(archive) as tf:
        names = set(tf.getnames())
        manifest = json.load(tf.extractfile("manifest.json"))  # type: ignore[arg-type]
        index = json.load(tf.extractfile("index.json"))  # type: ignore[arg-type]
        for layer_path in manifest[0]["Layers"]:
            data = tf.extractfile(layer_path).read()  # type: ignore[union-attr]
            assert "sha256:" + sha_hex(data) == "sha256:" + layer_path.rsplit("/", 1)[1]
    assert {"oci-layout", "repositories", "index.json", "manifest.json"} <= names
    assert manifest[0]["RepoTags"] == ["saved/bb:1"]
    assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == (
        "docker.io/saved/bb:1"
    )
    assert daemon.docker("rmi", "saved/bb:1").returncode == 0
    loaded = daemon.docker("load", "-i", str(archive))
    assert loaded.returncode == 0 and "Loaded image: saved/bb:1" in loaded.stdout, loaded.stderr
    assert daemon.client().images.get("saved/bb:1").id == image_id
    run = daemon.docker("run", "--rm", "saved/bb:1", "echo", "loaded-ok")
    assert run.stdout.strip() == "loaded-ok", run.stderr
    skopeo = subprocess.run(["skopeo", "inspect", f"docker-archive:{archive}"],
                            capture_output=True, text=True)  # fmt: skip
    assert skopeo.returncode == 0 and json.loads(skopeo.stdout)["Architecture"], skopeo.stderr
    daemon.docker("rmi", "saved/bb:1")


def test_docker_py_get_and_load(daemon) -> None:
    client = daemon.client()
    data = b"".join(client.images.get("busybox").save())
    client.images.get("busybox").tag("pysaved", "x")
    client.images.remove("pysaved:x")
    images = client.images.load(data)
    assert "busybox:latest" in images[0].tags


def test_load_legacy_docker_archive(daemon) -> None:
    data, image_id = legacy_archive()
    status, body = daemon.request(
        "POST", "/images/load", data, {"Content-Type": "application/x-tar"}
    )
    assert status == 200, body
    assert json.loads(body.splitlines()[0]) == {"stream": "Loaded image: legacy/img:v1\n"}
    image = daemon.client().images.get("legacy/img:v1")
    assert image.id == image_id and len(image.attrs["RootFS"]["Layers"]) == 3
    assert not (daemon.root / "escape").exists() and not (daemon.root / "data" / "escape").exists()
    lower = image.attrs["GraphDriver"]["Data"]["LowerDir"].split(":")
    assert (Path(lower[0]) / "etc" / "motd").read_bytes() == b"legacy\n"
    daemon.docker("rmi", "legacy/img:v1")


def test_load_rejects_a_layer_that_does_not_match_its_config(daemon) -> None:
    data, _ = legacy_archive()
    bad = data.replace(b"legacy\n", b"LEGACY\n")
    layers_before = set((daemon.root / "data" / "layers").iterdir())
    status, body = daemon.request("POST", "/images/load", bad)
    assert status == 400 and b"the config expects" in body
    assert set((daemon.root / "data" / "layers").iterdir()) == layers_before
    status, body = daemon.request("POST", "/images/load", b"not a tar at all" * 100)
    assert status == 400


def test_load_oci_archive_written_by_skopeo(daemon, registry, tmp_path: Path) -> None:
    name = f"{registry.host}/oci/bb:1"
    assert daemon.docker("tag", "busybox", name).returncode == 0
    assert daemon.docker("push", name).returncode == 0
    daemon.docker("rmi", name)
    archive = tmp_path / "oci.tar"
    copy = subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{name}",
                           f"oci-archive:{archive}:{name}"], capture_output=True, text=True)  # fmt: skip
    assert copy.returncode == 0, copy.stderr
    with tarfile.open(archive) as tf:
        index = json.load(tf.extractfile("index.json"))  # type: ignore[arg-type]
        digest = index["manifests"][0]["digest"].removeprefix("sha256:")
        manifest = json.load(tf.extractfile(f"blobs/sha256/{digest}"))  # type: ignore[arg-type]
    loaded = daemon.docker("load", "-i", str(archive))
    assert loaded.returncode == 0 and f"Loaded image: {name}" in loaded.stdout, loaded.stderr
    assert daemon.client().images.get(name).id == manifest["config"]["digest"]
    run = daemon.docker("run", "--rm", name, "echo", "oci-ok")
    assert run.stdout.strip() == "oci-ok", run.stderr
