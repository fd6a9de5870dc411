"""`system df` and `image prune` against a real dockwrightd, through the real `docker` CLI and
through `dockwright`: the same state must print the same (masked) output, with true sizes."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
DOCKWRIGHT = str(REPO / ".venv" / "bin" / "dockwright")
_MASKS = [
    (re.compile(r"sha256:[0-9a-f]{64}"), "<DIGEST>"),
    (re.compile(r"\b[0-9a-f]{12,64}\b"), "<ID>"),
    (re.compile(r"(Less than a second|\d+ seconds?|About a minute|\d+ minutes)"), "<AGE>"),
]


def mask(text: str) -> str:
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


def cli(daemon, binary: str, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "DOCKER_HOST": daemon.host}
    env.pop("DOCKWRIGHT_HOST", None)
    env.pop("DOCKER_CONTEXT", None)
    p = subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=60,
                       stdin=subprocess.DEVNULL)  # fmt: skip
    return p.returncode, mask(p.stdout), mask(p.stderr)


def both(daemon, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    ours = cli(daemon, DOCKWRIGHT, *args)
    theirs = cli(daemon, "docker", *args)
    assert ours == theirs
    return ours


def rootfs(size: int, name: str = "data") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = size
        tar.addfile(info, io.BytesIO(b"z" * size))
    return buf.getvalue()


def import_image(daemon, repo: str, tag: str, size: int) -> str:  # type: ignore[no-untyped-def]
    status, body = daemon.request(
        "POST", f"/images/create?fromSrc=-&repo={repo}&tag={tag}", rootfs(size),
        {"Content-Type": "application/x-tar"},
    )  # fmt: skip
    assert status == 200, body
    return json.loads(body)["status"]


def df_json(daemon) -> dict:  # type: ignore[no-untyped-def,type-arg]
    status, body = daemon.request("GET", "/v1.45/system/df")
    assert status == 200, body
    return json.loads(body)


def test_df_reports_true_sizes_and_matches_docker(daemon) -> None:  # type: ignore[no-untyped-def]
    import_image(daemon, "dfimg", "1", 4000)
    rc = daemon.docker("run", "--name", "dfwriter", "busybox", "sh", "-c",
                       "dd if=/dev/zero of=/blob bs=1k count=300 2>/dev/null")  # fmt: skip
    assert rc.returncode == 0, rc.stderr
    try:
        du = df_json(daemon)
        sizes = {tuple(i["RepoTags"]): i for i in du["Images"]}
        assert sizes[("dfimg:1",)]["Size"] == 4000
        assert sizes[("dfimg:1",)]["Containers"] == 0
        assert sizes[("busybox:latest",)]["Containers"] == 1
        assert du["LayersSize"] == sum(i["Size"] for i in du["Images"])
        (writer,) = [c for c in du["Containers"] if c["Names"] == ["/dfwriter"]]
        assert 300 * 1024 <= writer["SizeRw"] < 300 * 1024 + 16384
        assert writer["SizeRootFs"] == writer["SizeRw"] + sizes[("busybox:latest",)]["Size"]
        assert du["Volumes"] == [] and du["BuildCache"] == []
        out = both(daemon, "system", "df")
        assert (
            out[0] == 0 and "Containers      1         0         307.2kB   307.2kB (100%)" in out[1]
        )
        both(daemon, "system", "df", "--format", "{{json .}}")
        verbose = both(daemon, "system", "df", "-v")
        assert "dfimg        1" in verbose[1]
        status, body = daemon.request("GET", "/v1.45/system/df?type=container")
        assert status == 200 and json.loads(body)["Images"] is None
    finally:
        daemon.docker("rm", "-f", "dfwriter")
        daemon.docker("rmi", "dfimg:1")


def make_dangling(daemon) -> None:  # type: ignore[no-untyped-def]
    import_image(daemon, "prunable", "1", 1500)
    import_image(daemon, "prunable", "1", 2500)  # the first one loses its tag
    import_image(daemon, "prunable", "2", 700)


@pytest.mark.parametrize("binary", [DOCKWRIGHT, "docker"])
def test_image_prune_dangling_only(daemon, binary: str) -> None:  # type: ignore[no-untyped-def]
    make_dangling(daemon)
    try:
        rc, out, err = cli(daemon, binary, "image", "prune", "-f")
        assert (rc, err) == (0, "")
        assert out == "Deleted Images:\ndeleted: <DIGEST>\ndeleted: <DIGEST>\n\n" \
                      "Total reclaimed space: 1.5kB\n"  # fmt: skip
        tags = [t for i in df_json(daemon)["Images"] for t in i["RepoTags"]]
        assert "prunable:1" in tags and "prunable:2" in tags
    finally:
        daemon.docker("rmi", "prunable:1", "prunable:2")


def test_image_prune_all_filters_and_skips_used(daemon) -> None:  # type: ignore[no-untyped-def]
    outputs = []
    for binary in (DOCKWRIGHT, "docker"):
        make_dangling(daemon)
        for name, image in (("pruneuser", "prunable:2"), ("busykeeper", "busybox")):
            rc = daemon.docker("create", "--name", name, image, "true")
            assert rc.returncode == 0, rc.stderr
        try:
            for flt in ("label=nothing-has-this", "until=1h"):
                outputs.append(cli(daemon, binary, "image", "prune", "-a", "-f", "--filter", flt))
            outputs.append(cli(daemon, binary, "image", "prune", "-a", "-f"))
            tags = {t for i in df_json(daemon)["Images"] for t in i["RepoTags"]}
            outputs.append((0, str(sorted(tags)), ""))
        finally:
            daemon.docker("rm", "-f", "pruneuser", "busykeeper")
            daemon.docker("rmi", "prunable:2")
    ours, theirs = outputs[:4], outputs[4:]
    assert ours == theirs
    assert ours[0] == (0, "Total reclaimed space: 0B\n", "")
    assert ours[1] == (0, "Total reclaimed space: 0B\n", "")  # all newer than an hour ago
    assert ours[2] == (
        0,
        "Deleted Images:\nuntagged: prunable:1\ndeleted: <DIGEST>\ndeleted: <DIGEST>\n"
        "deleted: <DIGEST>\ndeleted: <DIGEST>\n\nTotal reclaimed space: 4kB\n",
        "",
    )
    assert ours[3][1] == "['busybox:latest', 'prunable:2']"


def test_prune_api_rejects_bad_filters(daemon) -> None:  # type: ignore[no-untyped-def]
    status, body = daemon.request("POST", '/v1.45/images/prune?filters={"reference":["x"]}')
    assert status == 400 and b"invalid filter 'reference'" in body
