"""Builder speed, round 3 (pure, no root): blobs written behind the build, and build steps'
rootfs mounted `volatile`.

- `stage_dir_spooled` + `Spooled.ingest` give the blob, diff_id, size and on-disk diff that
  `stage_dir` gives, and leave no spool behind (ingested, discarded, or a fallback path);
- `BlobQueue` runs work in order, `drain` raises the first failure, `close` waits for all;
- `OverlayRootfs` mounts only the containers marked with `use_volatile` with `volatile`, and
  falls back to a plain overlay where the kernel refuses;
- `mark_top_dir` sets ext4's FS_TOPDIR_FL where the filesystem has it (the layer store's root);
- a COPY from the context's spool skips fchmod/fchown only where the file already has them.
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import hashlib
import io
import os
import tarfile
import threading
import time
from pathlib import Path

import pytest

from dockwright.builder import copy as cp
from dockwright.builder.copyindex import copy_from_index, current_umask
from dockwright.builder.ctxindex import SpoolingReader, index_stream
from dockwright.builder.ctxsource import Source
from dockwright.builder.ctxtree import LazyTree
from dockwright.engine.builds.blobqueue import BlobQueue
from dockwright.engine.wiring import OverlayRootfs
from dockwright.image.fromdir import stage_dir, stage_dir_spooled
from dockwright.image.fstree import walk
from dockwright.image.layers import LayerStore
from dockwright.image.snapshot import MountPlan
from dockwright.image.topdir import FS_IOC_GETFLAGS, FS_TOPDIR_FL, mark_top_dir
from dockwright.kernel.libc import SyscallError
from dockwright.store.content import ContentStore
from dockwright.store.db import Database

pytestmark = pytest.mark.unit


@pytest.fixture
def stores(tmp_path):
    db = Database(tmp_path / "state.db")
    yield LayerStore(db, tmp_path / "layers", chown=False), ContentStore(tmp_path / "content")
    db.close()


def make_tree(root: Path) -> Path:
    (root / "etc" / "sub").mkdir(parents=True)
    (root / "etc" / "a.txt").write_text("a\n")
    (root / "etc" / "sub" / "b.bin").write_bytes(bytes(range(256)) * 300)
    os.symlink("a.txt", root / "etc" / "link")
    for path in ["etc/link", "etc/a.txt", "etc/sub/b.bin", "etc/sub", "etc"]:
        os.utime(root / path, ns=(1_700_000_000_500_000_000,) * 2, follow_symlinks=False)
    return root


def view(root: Path) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for rel, st in walk(root):
        path = root / rel.lstrip("/")
        body = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        out.append((rel, st.st_mode, st.st_mtime_ns, st.st_size, body))
    return out


def tmp_dirs(layers: LayerStore) -> list[str]:
    return sorted(p.name for p in layers.root.iterdir() if p.name.startswith(".tmp-"))


def test_a_spooled_blob_is_the_blob_stage_dir_commits(stores, tmp_path):
    layers, content = stores
    direct = stage_dir(layers, content, make_tree(tmp_path / "one"))
    spooled = stage_dir_spooled(layers, content, make_tree(tmp_path / "two"))
    assert spooled.kept.blob == direct.blob
    assert spooled.kept.staged.diff_id == direct.staged.diff_id
    assert spooled.kept.staged.size == direct.staged.size
    assert view(spooled.kept.staged.tmp / "diff") == view(direct.staged.tmp / "diff")
    assert spooled.tar is not None and spooled.tar.is_file()
    content.delete(direct.blob.digest)
    assert spooled.ingest(content) == direct.blob
    data = content.read(direct.blob.digest)
    assert "sha256:" + hashlib.sha256(data).hexdigest() == direct.blob.digest
    assert not spooled.tar.parent.exists()
    layers.discard(direct.staged)
    layers.discard(spooled.kept.staged)
    assert tmp_dirs(layers) == []


def test_the_spool_is_not_the_blob_until_ingested(stores, tmp_path):
    layers, content = stores
    spooled = stage_dir_spooled(layers, content, make_tree(tmp_path / "src"))
    assert not content.has(spooled.kept.blob.digest)
    spooled.discard()
    assert not content.has(spooled.kept.blob.digest)
    layers.discard(spooled.kept.staged)
    assert tmp_dirs(layers) == []


def test_a_damaged_spool_is_refused_and_removed(stores, tmp_path):
    layers, content = stores
    spooled = stage_dir_spooled(layers, content, make_tree(tmp_path / "src"))
    assert spooled.tar is not None
    with spooled.tar.open("r+b") as f:
        f.write(b"X")
    with pytest.raises(Exception, match="mismatch"):
        spooled.ingest(content)
    assert not content.has(spooled.kept.blob.digest)
    layers.discard(spooled.kept.staged)
    assert tmp_dirs(layers) == []


def test_a_tree_extraction_must_reinterpret_takes_the_old_path_without_a_spool(stores, tmp_path):
    layers, content = stores
    src = make_tree(tmp_path / "src")
    (src / "etc" / ".wh.odd").write_text("a file named like a whiteout\n")
    spooled = stage_dir_spooled(layers, content, src)
    assert spooled.tar is None
    assert content.has(spooled.kept.blob.digest)  # the old path stored it itself
    assert spooled.ingest(content) == spooled.kept.blob
    layers.discard(spooled.kept.staged)
    assert tmp_dirs(layers) == []


def test_a_failing_walk_leaves_no_spool(stores, tmp_path):
    layers, content = stores
    with pytest.raises(FileNotFoundError):
        stage_dir_spooled(layers, content, tmp_path / "missing")
    assert tmp_dirs(layers) == []


def test_the_queue_runs_work_in_order_in_one_thread():
    async def main() -> tuple[list[int], set[int]]:
        queue, seen, threads = BlobQueue(), [], set()

        def work(n: int) -> None:
            time.sleep(0.01 if n == 0 else 0)
            seen.append(n)
            threads.add(threading.get_ident())

        for n in range(5):
            queue.submit(lambda n=n: work(n))
        await queue.drain()
        await queue.close()
        return seen, threads

    seen, threads = asyncio.run(main())
    assert seen == [0, 1, 2, 3, 4]
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_drain_raises_the_first_failure_and_close_waits_for_the_rest(caplog):
    async def main() -> list[str]:
        queue, done = BlobQueue(), []

        def fail() -> None:
            raise OSError("disk full for blob one")

        queue.submit(fail)
        queue.submit(lambda: (time.sleep(0.05), done.append("two")))
        with pytest.raises(OSError, match="blob one"):
            await queue.drain()
        await queue.close()
        return done

    assert asyncio.run(main()) == ["two"]
    assert "disk full for blob one" in caplog.text


def test_drain_waits_for_work_submitted_from_worker_threads():
    async def main() -> list[int]:
        queue, done = BlobQueue(), []
        await asyncio.gather(*(asyncio.to_thread(queue.submit, lambda n=n: done.append(n))
                               for n in range(4)))  # fmt: skip
        await queue.drain()
        await queue.close()
        return done

    assert sorted(asyncio.run(main())) == [0, 1, 2, 3]


class FakeSnapshots:
    def __init__(self, base: Path) -> None:
        self.base = base

    def plan(self, cid: str) -> MountPlan:
        d = self.base / cid
        return MountPlan((d / "l1", d / "l0"), d / "upper", d / "work", d / "merged")

    def remove(self, cid: str) -> None:
        pass


class FakeMounter:
    def __init__(self, refuse: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.refuse = refuse

    def mount(self, source: str, target: Path, fstype: str, flags: int = 0, data: str = "") -> None:
        if self.refuse:
            raise SyscallError(f"mount overlay on {target}: invalid argument", 22)
        self.calls.append(("mount", data))

    def mount_overlay(self, lowerdirs, upper, work, target) -> None:  # noqa: ANN001
        self.calls.append(("overlay", ":".join(str(p.name) for p in lowerdirs)))

    def unmount(self, target: Path, *, detach: bool = True) -> None:
        pass

    def is_mountpoint(self, path: Path) -> bool:
        return False


def rootfs(tmp_path: Path, refuse: bool = False) -> tuple[OverlayRootfs, FakeMounter]:
    mounter = FakeMounter(refuse)
    return OverlayRootfs(FakeSnapshots(tmp_path), mounter), mounter  # type: ignore[arg-type]


def test_only_a_marked_container_gets_a_volatile_overlay(tmp_path):
    fs, mounter = rootfs(tmp_path)
    fs.use_volatile("step")
    assert fs.mount("step") == tmp_path / "step" / "merged"
    assert fs.mount("user") == tmp_path / "user" / "merged"
    kind, data = mounter.calls[0]
    d = tmp_path / "step"
    assert kind == "mount"
    assert data == f"lowerdir={d}/l1:{d}/l0,upperdir={d}/upper,workdir={d}/work,volatile"
    assert mounter.calls[1] == ("overlay", "l1:l0")


def test_a_removed_container_is_forgotten(tmp_path):
    fs, mounter = rootfs(tmp_path)
    fs.use_volatile("step")
    fs.remove("step")
    fs.mount("step")
    assert mounter.calls == [("overlay", "l1:l0")]


def test_a_kernel_that_refuses_volatile_gets_a_plain_overlay(tmp_path):
    fs, mounter = rootfs(tmp_path, refuse=True)
    fs.use_volatile("step")
    fs.mount("step")
    assert mounter.calls == [("overlay", "l1:l0")]


def top_flag(path: Path) -> bool | None:
    """FS_TOPDIR_FL of `path`, None where the filesystem has no such flags."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, flags, True)
        return bool(flags[0] & FS_TOPDIR_FL)
    except OSError:
        return None
    finally:
        os.close(fd)


def test_a_directory_is_marked_top_where_the_filesystem_can(tmp_path):
    d = tmp_path / "layers"
    d.mkdir()
    supported = top_flag(d) is not None
    assert mark_top_dir(d) is supported
    assert mark_top_dir(d) is supported  # idempotent
    assert top_flag(d) is (True if supported else None)


def test_a_file_or_missing_path_is_not_marked(tmp_path):
    (tmp_path / "file").write_text("x")
    assert mark_top_dir(tmp_path / "file") is False
    assert mark_top_dir(tmp_path / "missing") is False


def test_the_layer_store_root_is_marked(stores):
    layers, _content = stores
    assert top_flag(layers.root) in (True, None)
    assert top_flag(layers.root / "empty") in (False, None)  # not inherited


def lazy_context(tmp: Path) -> LazyTree:
    """A small context (modes 0644, 0755, 0700 dirs, a symlink), spooled and indexed."""
    src = tmp / "src"
    (src / "d" / "e").mkdir(parents=True)
    (src / "d" / "e" / "f.txt").write_bytes(b"f\n" * 3000)
    (src / "d" / "run.sh").write_bytes(b"#!/bin/sh\n")
    (src / "g.txt").write_bytes(b"")
    os.chmod(src / "d" / "run.sh", 0o755)
    os.chmod(src / "d" / "e", 0o700)
    os.symlink("g.txt", src / "link")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.add(src, arcname=".")
    pieces = iter([buf.getvalue()])
    with (tmp / "context.tar").open("wb") as f:
        reader = SpoolingReader(lambda: next(pieces, b""), f)
        index = index_stream(reader)
        reader.drain()
    (tmp / "context").mkdir()
    return LazyTree(tmp / "context", index, tmp / "context.tar")


def modes(root: Path) -> list[tuple[str, int, int, int, int]]:
    out = []
    for path in sorted(root.rglob("*")):
        st = os.lstat(path)
        out.append((str(path.relative_to(root)), st.st_mode, st.st_uid, st.st_gid, st.st_size))
    return out


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_files_written_with_their_mode_whatever_the_umask(tmp_path, umask):
    tree = lazy_context(tmp_path)
    own = (os.geteuid(), os.getegid())
    source = Source(tree.root, ".", True, tree=tree, rel="")
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        (tmp_path / "spool").mkdir()
        assert copy_from_index(source, tmp_path / "spool", own, None, [])
    finally:
        os.umask(old)
    (tmp_path / "disk").mkdir()
    cp._copy_tree(source.path, tmp_path / "disk", own, None, [], fresh=True)
    got = modes(tmp_path / "spool")
    assert got == modes(tmp_path / "disk")
    assert ("d/run.sh", 0o100755, *own, 10) in got and ("g.txt", 0o100644, *own, 0) in got
