"""Images through a real daemon with the real docker CLI and docker-py."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest

pytestmark = pytest.mark.integration


def rootfs_tgz() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("etc/motd", b"hello\n"), ("bin/tool", b"#!/bin/sh\n")):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tf.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


def ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_cli_import_inspect_history_tag_rmi(daemon, tmp_path):
    archive = tmp_path / "rootfs.tgz"
    archive.write_bytes(rootfs_tgz())
    image_id = ok(daemon.docker("import", "--change", 'CMD ["/bin/tool"]', "--change", "ENV MODE=test",
                                "-m", "from a tarball", str(archive), "tools:1")).strip()  # fmt: skip
    assert image_id.startswith("sha256:")
    info = json.loads(ok(daemon.docker("image", "inspect", "tools:1")))[0]
    assert info["Id"] == image_id and info["RepoTags"] == ["tools:1"]
    assert info["Config"]["Cmd"] == ["/bin/tool"] and "MODE=test" in info["Config"]["Env"]
    assert info["Comment"] == "from a tarball" and info["RootFS"]["Type"] == "layers"
    history = ok(
        daemon.docker("history", "--no-trunc", "--format", "{{.ID}} {{.Comment}}", "tools:1")
    )
    assert history.strip() == f"{image_id} from a tarball"
    ok(daemon.docker("tag", "tools:1", "localhost:5000/team/tools:v2"))
    listed = ok(
        daemon.docker(
            "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=*/team/*"
        )
    )
    assert listed.split() == ["localhost:5000/team/tools:v2"]
    assert ok(daemon.docker("rmi", "localhost:5000/team/tools:v2")).split() == [
        "Untagged:",
        "localhost:5000/team/tools:v2",
    ]
    out = ok(daemon.docker("rmi", "tools:1"))
    assert f"Untagged: tools:1\nDeleted: {image_id}\n" in out
    missing = daemon.docker("rmi", "tools:1")
    assert missing.returncode != 0 and "No such image: tools:1" in missing.stderr


def test_cli_import_from_stdin_gives_a_dangling_image(daemon):
    image_id = daemon.docker("import", "-", input=rootfs_tgz())
    assert image_id.returncode == 0, image_id.stderr
    image_id = image_id.stdout.decode().strip()
    dangling = ok(daemon.docker("images", "-q", "--no-trunc", "--filter", "dangling=true"))
    assert image_id in dangling.split()
    ok(daemon.docker("rmi", image_id[7:19]))


def layer_dirs(daemon) -> set[str]:
    return {
        p.name
        for p in (daemon.root / "data" / "layers").iterdir()
        if not p.name.startswith(".trash")
    }


def test_rmi_refuses_an_image_a_container_uses(daemon):
    before = layer_dirs(daemon)
    image_id = daemon.docker("import", "-", "solo:1", input=rootfs_tgz()).stdout.decode().strip()
    cid = ok(daemon.docker("create", "solo:1", "/bin/tool")).strip()
    try:
        refused = daemon.docker("rmi", "solo:1")
        assert refused.returncode != 0
        assert (f'conflict: unable to remove repository reference "solo:1" (must force) - container '
                f"{cid[:12]} is using its referenced image {image_id[7:19]}") in refused.stderr  # fmt: skip
        by_id = daemon.docker("rmi", image_id[7:19])
        assert (
            f"(must be forced) - image is being used by stopped container {cid[:12]}"
            in by_id.stderr
        )
        forced = ok(daemon.docker("rmi", "-f", "solo:1"))
        assert forced.startswith(f"Untagged: solo:1\nDeleted: {image_id}\n")
        # the container still has its root filesystem: the snapshot holds the layers
        assert (
            ok(daemon.docker("container", "inspect", "-f", "{{.Image}}", cid)).strip() == image_id
        )
        assert len(layer_dirs(daemon)) == len(before) + 1
    finally:
        ok(daemon.docker("rm", "-f", cid))
    assert layer_dirs(daemon) == before  # the last user of the layer is gone


def test_rmi_with_other_tags_only_untags(daemon):
    ok(daemon.docker("tag", "busybox", "alias:1"))
    assert ok(daemon.docker("rmi", "alias:1")).strip() == "Untagged: alias:1"
    ok(daemon.docker("tag", "busybox", "alias:1"))
    image_id = json.loads(ok(daemon.docker("image", "inspect", "busybox")))[0]["Id"]
    by_id = daemon.docker("rmi", image_id[7:19])
    assert "(must be forced) - image is referenced in multiple repositories" in by_id.stderr
    ok(daemon.docker("rmi", "alias:1"))


def test_docker_py_images(daemon):
    client = daemon.client()
    try:
        image = client.images.get("busybox")
        assert "busybox:latest" in image.tags
        assert image.tag("pyimg", "x")
        assert "pyimg:x" in client.images.get(image.id).tags
        assert any("pyimg:x" in i.tags for i in client.images.list())
        assert image.history()[0]["Id"] == image.id
        client.images.remove("pyimg:x")
        assert "pyimg:x" not in client.images.get(image.id).tags
        with pytest.raises(Exception, match="No such image"):
            client.images.get("ghost")
    finally:
        client.close()
