"""Builder speed, round 3, functionally (never timed): RUN steps run on a `volatile` overlay
(user containers never do), and the layers' blobs reach the content store behind the build but
before it names its image — also when a later step fails — leaving no spool behind.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT_LINE = "awk '$5 == \"/\"' /proc/self/mountinfo"
PARALLEL = """\
FROM busybox AS one
RUN dd if=/dev/zero of=/one.bin bs=64k count=40 2>/dev/null && echo one > /one.txt
RUN sha256sum /one.bin > /one.sum
FROM busybox AS two
COPY files/ /two/
RUN ls /two > /two.list
FROM busybox
COPY --from=one /one.sum /one.txt /app/
COPY --from=two /two.list /app/
RUN cat /app/one.txt /app/two.list > /app/all
"""


def layer_rows(data: Path) -> tuple[list[str], dict[str, str]]:
    """The diff_ids of every layer, and diff_id -> recorded blob digest (read-only)."""
    db = sqlite3.connect(f"file:{data / 'state.db'}?mode=ro", uri=True)
    try:
        layers = [r[0] for r in db.execute("SELECT diff_id FROM layers")]
        blobs = dict(db.execute("SELECT diff_id, digest FROM layer_blobs").fetchall())
    finally:
        db.close()
    return layers, blobs


def assert_blobs_stored(data: Path, diff_ids: list[str]) -> None:
    _, blobs = layer_rows(data)
    for diff_id in diff_ids:
        assert blobs.get(diff_id) == diff_id, f"no blob recorded for {diff_id}"
        blob = data / "content" / "blobs" / "sha256" / diff_id.removeprefix("sha256:")
        assert "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest() == diff_id


def no_spools(data: Path) -> list[str]:
    return [p.name for p in (data / "layers").iterdir() if p.name.startswith(".tmp-")]


def image_layers(daemon, image: str) -> list[str]:
    return list(json.loads(daemon.docker("image", "inspect", image).stdout)[0]["RootFS"]["Layers"])


def test_run_steps_have_a_volatile_root_and_user_containers_do_not(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM busybox\nRUN {ROOT_LINE} > /root-mount\n")
    r = daemon.docker("build", "--no-cache", "-t", "speed3:vol", str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    seen = daemon.docker("run", "--rm", "speed3:vol", "cat", "/root-mount")
    assert "overlay" in seen.stdout and "volatile" in seen.stdout, seen.stdout + seen.stderr
    user = daemon.docker("run", "--rm", "busybox", "sh", "-c", ROOT_LINE)
    assert "overlay" in user.stdout and "volatile" not in user.stdout, user.stdout + user.stderr


def test_every_layer_blob_is_stored_when_the_build_ends(daemon, tmp_path):
    (tmp_path / "files").mkdir()
    for n in range(30):
        (tmp_path / "files" / f"f{n}.txt").write_text(f"file {n}\n" * (n + 1))
    (tmp_path / "Dockerfile").write_text(PARALLEL)
    r = daemon.docker("build", "--no-cache", "-t", "speed3:par", str(tmp_path), timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    data = daemon.root / "data"
    made = image_layers(daemon, "speed3:par")
    assert len(made) == len(image_layers(daemon, "busybox")) + 3
    assert_blobs_stored(data, made)
    assert no_spools(data) == []
    out = daemon.docker("run", "--rm", "speed3:par", "cat", "/app/all")
    assert out.stdout.startswith("one\nf0.txt\n"), out.stdout + out.stderr
    saved = tmp_path / "saved.tar"
    s = daemon.docker("save", "-o", str(saved), "speed3:par")
    assert s.returncode == 0 and saved.stat().st_size > 2_000_000, s.stderr


def test_a_failed_build_leaves_its_steps_blobs_stored_and_no_spool(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nRUN head -c 300000 /dev/urandom > /noise\nRUN exit 7\n"
    )
    data = daemon.root / "data"
    before, _ = layer_rows(data)
    r = daemon.docker("build", "--no-cache", str(tmp_path), timeout=120)
    assert r.returncode != 0
    assert "returned a non-zero code: 7" in r.stdout + r.stderr
    after, _ = layer_rows(data)
    new = [d for d in after if d not in before]
    assert len(new) == 1
    assert_blobs_stored(data, new)
    assert no_spools(data) == []
    assert daemon.docker("ps", "-aq").stdout.strip() == ""
