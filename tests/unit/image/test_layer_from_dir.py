"""fromdir.stage_dir: a directory moved into the layer store is what extracting its tar gives.

Every case builds the same tree twice and compares the old path (tar_diff → stage_keeping_blob,
which extracts the tar) with the new one (stage_dir, which moves the tree and tars it once):
same blob, diff_id and size, and the same tree on disk, entry by entry.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from dockwright.image.fromdir import stage_dir
from dockwright.image.fstree import walk
from dockwright.image.keep import stage_keeping_blob
from dockwright.image.layers import LayerStore
from dockwright.image.tardiff import tar_diff
from dockwright.store.content import ContentStore
from dockwright.store.db import Database

pytestmark = pytest.mark.unit

NS = 1_700_000_000_123_456_789  # a time with nanoseconds, which a tar cannot keep


@pytest.fixture
def stores(tmp_path):
    db = Database(tmp_path / "state.db")
    yield LayerStore(db, tmp_path / "layers", chown=False), ContentStore(tmp_path / "content")
    db.close()


def entry_view(root: Path, rel: str, st: os.stat_result) -> tuple[object, ...]:
    """What an entry is: type, mode, owner, times, size, and its content or link target."""
    path = root / rel.lstrip("/")
    body: object = None
    if stat.S_ISREG(st.st_mode):
        body = hashlib.sha256(path.read_bytes()).hexdigest()
    elif stat.S_ISLNK(st.st_mode):
        body = os.readlink(path)
    xattrs = sorted(os.listxattr(path, follow_symlinks=False))
    whiteout = stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    mtime = None if whiteout else st.st_mtime_ns  # extraction makes whiteouts "now"
    return (rel, st.st_mode, st.st_uid, st.st_gid, mtime, st.st_size, st.st_nlink, body, xattrs)


def tree_view(root: Path) -> list[tuple[object, ...]]:
    root_st = os.stat(root)
    view = [entry_view(root, rel, st) for rel, st in walk(root)]
    return [("/", stat.S_IMODE(root_st.st_mode)), *view]


def both_ways(stores, tmp_path: Path, make, clamp: int | None = None):
    """(old Kept, new Kept) for two copies of the tree `make(dir)` builds."""
    layers, content = stores
    old_src, new_src = tmp_path / "old", tmp_path / "new"
    for src in (old_src, new_src):
        src.mkdir(mode=0o755)
        make(src)
    old = stage_keeping_blob(layers, content, tar_diff(old_src, clamp))
    new = stage_dir(layers, content, new_src, clamp)
    return old, new


def assert_same(old, new) -> None:
    assert new.blob == old.blob
    assert new.staged.diff_id == old.staged.diff_id == old.blob.digest
    assert new.staged.size == old.staged.size
    assert new.kind == old.kind == "plain"
    assert tree_view(new.staged.tmp / "diff") == tree_view(old.staged.tmp / "diff")


def plain_tree(root: Path) -> None:
    (root / "app" / "lib").mkdir(parents=True)
    (root / "app" / "lib" / "a.txt").write_bytes(b"alpha\n")
    (root / "app" / "empty").write_bytes(b"")
    (root / "app" / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(root / "app" / "run.sh", 0o4755)
    os.link(root / "app" / "lib" / "a.txt", root / "app" / "hard")
    os.symlink("lib/a.txt", root / "app" / "link")
    os.mkfifo(root / "app" / "fifo")
    os.chmod(root / "app" / "lib", 0o750)
    for rel, _st in reversed(list(walk(root))):
        os.utime(root / rel.lstrip("/"), ns=(NS, NS), follow_symlinks=False)


def test_a_moved_tree_matches_its_extraction(stores, tmp_path):
    old, new = both_ways(stores, tmp_path, plain_tree)
    assert_same(old, new)
    assert not (tmp_path / "new").exists()  # moved, not copied
    st = os.lstat(new.staged.tmp / "diff" / "app" / "link")
    assert st.st_mtime_ns == NS - NS % 1_000_000_000


def test_clamp_applies_to_the_files_themselves(stores, tmp_path):
    clamp = 1_600_000_000
    old, new = both_ways(stores, tmp_path, plain_tree, clamp)
    assert_same(old, new)
    for _rel, st in walk(new.staged.tmp / "diff"):
        assert st.st_mtime_ns == clamp * 1_000_000_000


def test_sockets_are_left_out(stores, tmp_path):
    def with_socket(root: Path) -> None:
        plain_tree(root)
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(root / "app" / "sock"))
        os.utime(root / "app", ns=(NS, NS))

    old, new = both_ways(stores, tmp_path, with_socket)
    assert_same(old, new)
    assert not (new.staged.tmp / "diff" / "app" / "sock").exists()


def test_a_root_mode_other_than_0755_is_not_kept(stores, tmp_path):
    def odd_root(root: Path) -> None:
        plain_tree(root)
        os.chmod(root, 0o700)

    old, new = both_ways(stores, tmp_path, odd_root)
    assert_same(old, new)


def test_whiteout_names_take_the_extracting_path(stores, tmp_path):
    def with_wh(root: Path) -> None:
        plain_tree(root)
        (root / "app" / ".wh.gone").write_bytes(b"")

    old, new = both_ways(stores, tmp_path, with_wh)
    assert_same(old, new)
    assert not (new.staged.tmp / "diff" / "app" / ".wh.gone").exists()
    assert len([p for p in stores[0].root.iterdir() if p.name.startswith(".tmp-")]) == 2


def test_a_staged_dir_commits_like_an_extracted_one(stores, tmp_path):
    layers, _content = stores
    old, new = both_ways(stores, tmp_path, plain_tree)
    layer = layers.commit(new.staged, None)
    assert layer.diff_id == old.blob.digest and layer.size == old.staged.size
    assert (layer.path / "app" / "lib" / "a.txt").read_bytes() == b"alpha\n"
    layers.discard(old.staged)


def test_a_failure_leaves_nothing(stores, tmp_path):
    layers, content = stores
    src = tmp_path / "src"
    src.mkdir()
    plain_tree(src)

    class Broken(ContentStore):
        def ingest_stream(self, chunks, expected=None, size=None):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        stage_dir(layers, Broken(content.root), src)
    assert not src.exists()
    assert [p.name for p in layers.root.iterdir()] == ["empty"]


def test_a_tree_on_another_filesystem_is_tarred_and_extracted(stores, tmp_path):
    layers, content = stores
    shm = Path(tempfile.mkdtemp(dir="/dev/shm"))  # tmpfs: a rename to the layer store fails
    try:
        (shm / "src").mkdir(mode=0o755)
        plain_tree(shm / "src")
        (tmp_path / "old").mkdir(mode=0o755)
        plain_tree(tmp_path / "old")
        old = stage_keeping_blob(layers, content, tar_diff(tmp_path / "old"))
        new = stage_dir(layers, content, shm / "src")
        assert_same(old, new)
        assert (shm / "src" / "app").is_dir()  # left for the caller
    finally:
        shutil.rmtree(shm)
