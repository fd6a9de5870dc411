"""skopeo (Debian's, written by others) against our registry: copy, inspect, list-tags, delete."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from ocilayout import make_layout
from registry_proc import skopeo, start_registry

pytestmark = pytest.mark.integration

NO_TLS = "--tls-verify=false"


@pytest.fixture
def image(workdir):
    digest = make_layout(workdir / "src", {"hello": b"hello world\n" * 5000, "etc/x": b"x"})
    return workdir / "src", digest


def test_copy_inspect_list_pull_delete(registry, image, workdir):
    layout, digest = image
    ref = f"docker://{registry.host}/team/app"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"{ref}:v1")
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"{ref}:v2")
    info = json.loads(skopeo("inspect", NO_TLS, f"{ref}:v1").stdout)
    assert info["Digest"] == digest and sorted(info["RepoTags"]) == ["v1", "v2"]
    tags = json.loads(skopeo("list-tags", NO_TLS, ref).stdout)
    assert tags["Tags"] == ["v1", "v2"]

    skopeo("copy", "--src-tls-verify=false", f"{ref}:v1", f"oci:{workdir / 'back'}:v1")
    sent = sorted(p.name for p in (layout / "blobs" / "sha256").iterdir())
    got = sorted(p.name for p in (workdir / "back" / "blobs" / "sha256").iterdir())
    assert got == sent

    skopeo("delete", NO_TLS, f"{ref}:v1")
    missing = skopeo("inspect", NO_TLS, f"{ref}:v2", check=False)
    assert missing.returncode != 0 and "manifest unknown" in missing.stderr


def test_docker_schema2_and_cross_repo_copy(registry, image):
    layout, _ = image
    first = f"docker://{registry.host}/a/one:latest"
    second = f"docker://{registry.host}/b/two:latest"
    skopeo("copy", "--dest-tls-verify=false", "--format", "v2s2", f"oci:{layout}:latest", first)
    skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", first, second)
    raw = json.loads(skopeo("inspect", "--raw", NO_TLS, second).stdout)
    assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    status, _, body = registry.request("GET", "/v2/_catalog")
    assert status == 200 and json.loads(body)["repositories"] == ["a/one", "b/two"]
    # each blob stored once although two repositories hold it
    blobs = list((registry.root / "blobs" / "sha256").iterdir())
    assert len(blobs) == 3  # layer, config, manifest (the same bytes in both repositories)


def test_online_gc_removes_deleted_image_while_serving(workdir, image):
    layout, digest = image
    reg = start_registry(workdir / "root", "--gc-interval", "0.2", "--gc-grace", "2")
    try:
        ref = f"docker://{reg.host}/gc/app"
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", f"{ref}:keep")
        make_layout(workdir / "other", {"other": b"only in the deleted image"})
        skopeo("copy", "--dest-tls-verify=false", f"oci:{workdir / 'other'}:latest", f"{ref}:gone")
        skopeo("delete", NO_TLS, f"{ref}:gone")
        blobs = reg.root / "blobs" / "sha256"
        kept = {p.name for p in (layout / "blobs" / "sha256").iterdir()}
        deadline = time.monotonic() + 10
        while {p.name for p in blobs.iterdir()} != kept and time.monotonic() < deadline:
            time.sleep(0.1)
        assert {p.name for p in blobs.iterdir()} == kept
        info = json.loads(skopeo("inspect", NO_TLS, f"{ref}:keep").stdout)
        assert info["Digest"] == digest
    finally:
        assert reg.stop() == 0


def test_parallel_pushes_sharing_a_layer(registry, workdir):
    shared = {"big": os.urandom(2 << 20)}
    digests = [make_layout(workdir / f"img{i}", shared, label=str(i)) for i in range(6)]
    procs = [
        subprocess.Popen(
            [
                "skopeo",
                "copy",
                "--dest-tls-verify=false",
                f"oci:{workdir / f'img{i}'}:latest",
                f"docker://{registry.host}/par/{'same' if i % 2 else f'r{i}'}:t{i}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(6)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    for i, digest in enumerate(digests):
        repo = "same" if i % 2 else f"r{i}"
        info = json.loads(
            skopeo("inspect", NO_TLS, f"docker://{registry.host}/par/{repo}:t{i}").stdout
        )
        assert info["Digest"] == digest
    blobs = {p.name for p in (registry.root / "blobs" / "sha256").iterdir()}
    assert len(blobs) == 1 + 6 + 6  # one shared layer, six configs, six manifests
