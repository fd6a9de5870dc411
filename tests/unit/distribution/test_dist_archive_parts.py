"""Archive parsing for docker load: member names, docker-archive and OCI entries. Pure-ish."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from dockwright.distribution.load import Spool, _clean, entries
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "name, clean",
    [("a/b", "a/b"), ("./manifest.json", "manifest.json"), ("../x", "x"), ("/abs/y", "abs/y"),
     ("a/../../b", "b"), (".", None), ("..foo", "..foo")],
)  # fmt: skip
def test_member_names_stay_inside(name: str, clean: str | None) -> None:
    assert _clean(name) == clean


def spool_of(tmp_path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> Spool:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
    spool = Spool(tmp_path)
    buf.seek(0)
    with tarfile.open(fileobj=buf, mode="r|") as tf:
        for info in tf:
            spool.add(tf, info)
    return spool


def test_docker_archive_entries_and_symlinked_layers(tmp_path: Path) -> None:
    manifest = [
        {"Config": "c.json", "RepoTags": ["busybox"], "Layers": ["a/layer.tar", "b/layer.tar"]}
    ]
    spool = spool_of(tmp_path, {"manifest.json": json.dumps(manifest).encode(), "a/layer.tar": b"L"},
                     {"b/layer.tar": "../a/layer.tar", "evil": "../../../etc/passwd"})  # fmt: skip
    (entry,) = entries(spool)
    assert [str(t) for t in entry.tags] == ["docker.io/library/busybox:latest"]
    assert spool.read("b/layer.tar") == b"L"
    with pytest.raises(InvalidParameter, match="missing file"):
        spool.read("evil")


def test_oci_entries_take_the_containerd_name_or_a_full_ref_name(tmp_path: Path) -> None:
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "x", "digest": D, "size": 1}, "layers": []}  # fmt: skip
    body = json.dumps(manifest).encode()

    mdigest = "sha256:" + hashlib.sha256(body).hexdigest()
    index = {"manifests": [
        {"mediaType": manifest["mediaType"], "digest": mdigest, "size": len(body),
         "annotations": {"io.containerd.image.name": "docker.io/library/a:1"}},
        {"mediaType": manifest["mediaType"], "digest": mdigest, "size": len(body),
         "annotations": {"org.opencontainers.image.ref.name": "latest"}},
        {"mediaType": manifest["mediaType"], "digest": mdigest, "size": len(body),
         "annotations": {"org.opencontainers.image.ref.name": "reg.example/b:2"}},
    ]}  # fmt: skip
    spool = spool_of(tmp_path, {"index.json": json.dumps(index).encode(),
                                f"blobs/sha256/{mdigest[7:]}": body})  # fmt: skip
    tags = [[str(t) for t in e.tags] for e in entries(spool)]
    assert tags == [["docker.io/library/a:1"], [], ["reg.example/b:2"]]
    assert entries(spool)[0].config == f"blobs/sha256/{'a' * 64}"


def test_archive_without_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="no manifest.json or index.json"):
        entries(spool_of(tmp_path, {"x": b"y"}))
