"""The fast step paths, functionally (never timed): COPY without a container, commits that move
the upper directory into the layer store, step containers removed in the background.

Every layer a build makes must be on disk exactly what extracting its blob gives (whiteouts as
0:0 character devices, opaque directories, no overlayfs bookkeeping xattrs, tar mtimes), and its
blob's digest must be its diff_id; nothing of a step (container, mount, staging dir) may remain.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import tempfile
from pathlib import Path

import pytest

from dockwright.image.extract import extract
from dockwright.image.fstree import walk
from dockwright.image.tardiff import tar_diff

pytestmark = pytest.mark.integration

EPOCH = 1700000000
DOCKERFILE = """\
FROM busybox AS base
RUN mkdir -p /data/keep /data/gone /data/redo && echo a > /data/keep/a \\
 && echo b > /data/gone/b && echo r > /data/redo/r \\
 && echo 'app:x:1234:1235::/:/bin/sh' >> /etc/passwd && echo 'app:x:1235:' >> /etc/group
RUN rm -rf /data/gone /data/redo && mkdir /data/redo && echo n > /data/redo/n \\
 && echo more >> /data/keep/a && ln /data/redo/n /data/redo/hard && mkfifo /data/fifo \\
 && setfattr -n user.note -v hi /data/keep/a 2>/dev/null; true
COPY --chown=app files/ /data/keep/
COPY --chmod=640 one.txt /bin/
COPY --chown=app:0 files/ /fresh/
FROM busybox
COPY --from=base /data /data
RUN test "$(cat /data/keep/a)" = "$(printf 'a\\nmore')" && test -p /data/fifo \\
 && test ! -e /data/gone && test ! -e /data/redo/r && test "$(stat -c %u /data/keep/sub/two)" = 0
"""


def _context(root: Path) -> None:
    (root / "files" / "sub").mkdir(parents=True)
    (root / "files" / "sub" / "two").write_text("two\n")
    (root / "files" / "three").write_text("three\n")
    (root / "one.txt").write_text("one\n")
    (root / "Dockerfile").write_text(DOCKERFILE)


def entry_view(root: Path, rel: str, st: os.stat_result) -> tuple[object, ...]:
    path = root / rel.lstrip("/")
    body: object = None
    if stat.S_ISREG(st.st_mode):
        body = hashlib.sha256(path.read_bytes()).hexdigest()
    elif stat.S_ISLNK(st.st_mode):
        body = os.readlink(path)
    xattrs = {n: os.getxattr(path, n, follow_symlinks=False)
              for n in os.listxattr(path, follow_symlinks=False)}  # fmt: skip
    whiteout = stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    mtime = None if whiteout else st.st_mtime_ns  # extraction makes whiteouts "now"
    return (rel, st.st_mode, st.st_uid, st.st_gid, mtime, st.st_size, st.st_nlink, body, xattrs)


def tree_view(root: Path) -> list[tuple[object, ...]]:
    return [entry_view(root, rel, st) for rel, st in walk(root)]


def layer_dirs(data: Path) -> dict[str, Path]:
    """diff_id -> the layer's diff directory, from the daemon's state.db (read-only)."""
    db = sqlite3.connect(f"file:{data / 'state.db'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT diff_id, dir FROM layers").fetchall()
    finally:
        db.close()
    return {diff_id: data / "layers" / d / "diff" for diff_id, d in rows}


def diff_ids(daemon, image: str) -> list[str]:
    inspect = json.loads(daemon.docker("image", "inspect", image).stdout)[0]
    return list(inspect["RootFS"]["Layers"])


def test_step_layers_are_what_their_blobs_extract_to(daemon, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _context(ctx)
    args = ("--build-arg", f"SOURCE_DATE_EPOCH={EPOCH}", "--no-cache", "--target", "base")
    r = daemon.docker("build", *args, "-t", "steps:base", str(ctx), timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    data = daemon.root / "data"
    base_layers = set(diff_ids(daemon, "busybox"))
    made = [d for d in diff_ids(daemon, "steps:base") if d not in base_layers]
    assert len(made) == 5  # two RUNs, three COPYs
    dirs = layer_dirs(data)
    for diff_id in made:
        blob = data / "content" / "blobs" / "sha256" / diff_id.removeprefix("sha256:")
        assert "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest() == diff_id
        with tempfile.TemporaryDirectory(dir=tmp_path) as out:
            got = extract([blob.read_bytes()], Path(out))
            assert got.diff_id == diff_id
            assert tree_view(dirs[diff_id]) == tree_view(Path(out)), diff_id
        again = hashlib.sha256(b"".join(tar_diff(dirs[diff_id]))).hexdigest()
        assert "sha256:" + again == diff_id  # what save and push regenerate from the layer
    deletions = dirs[made[1]] / "data"
    assert stat.S_ISCHR(os.lstat(deletions / "gone").st_mode)
    assert os.getxattr(deletions / "redo", "trusted.overlay.opaque") == b"y"
    for rel, _st in walk(deletions):
        names = os.listxattr(deletions / rel.lstrip("/"), follow_symlinks=False)
        assert not [n for n in names if n.startswith("trusted.overlay.") and "opaque" not in n]
    copied = os.stat(dirs[made[2]] / "data" / "keep" / "sub" / "two")
    assert (copied.st_uid, copied.st_gid) == (1234, 1235)  # --chown from the image's passwd
    assert stat.S_IMODE(os.stat(dirs[made[3]] / "bin" / "one.txt").st_mode) == 0o640
    fresh = dirs[made[4]] / "fresh"  # a new directory: written from the context's spool
    assert sorted(str(p.relative_to(fresh)) for p in fresh.rglob("*")) == [
        "sub", "sub/two", "three"]  # fmt: skip
    assert (fresh / "sub" / "two").read_text() == "two\n"
    assert os.stat(fresh / "sub" / "two").st_uid == 1234 and os.stat(fresh).st_gid == 0


def test_the_image_works_and_no_step_leaves_anything(daemon, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _context(ctx)
    r = daemon.docker("build", "--no-cache", "-t", "steps:final", str(ctx), timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Removed intermediate container" in r.stdout
    ps = daemon.docker("ps", "-aq")
    assert ps.stdout.strip() == ""
    layers = daemon.root / "data" / "layers"
    assert not [p.name for p in layers.iterdir() if p.name.startswith(".tmp-")]
    out = daemon.docker("run", "--rm", "steps:final", "cat", "/data/keep/three")
    assert out.stdout == "three\n", out.stderr


def test_a_failing_run_leaves_no_container(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY Dockerfile /\nRUN exit 3\n")
    r = daemon.docker("build", "--no-cache", str(tmp_path), timeout=120)
    assert r.returncode != 0
    assert "returned a non-zero code: 3" in r.stdout + r.stderr
    assert daemon.docker("ps", "-aq").stdout.strip() == ""


def test_copy_from_stages_of_no_and_of_one_layer(daemon, tmp_path):
    (tmp_path / "one.txt").write_text("one\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM scratch AS one\nCOPY one.txt /d/one.txt\n"
        "FROM scratch AS none\nLABEL empty=1\n"
        "FROM busybox\nCOPY --from=one /d /from-one\nCOPY --from=none / /from-none/\n"
    )
    r = daemon.docker("build", "--no-cache", "-t", "steps:froms", str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    out = daemon.docker(
        "run", "--rm", "steps:froms", "sh", "-c", "cat /from-one/one.txt; ls -A /from-none"
    )
    assert out.stdout == "one\n", out.stdout + out.stderr
