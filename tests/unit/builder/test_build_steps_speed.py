"""COPY's fast paths write what `shutil.copy2` + chown wrote, file by file.

`_copy_tree` writes below a directory it created without looking first, and copies each file
on two descriptors; the result must be the old one: data, mode (set before the owner, so chown
clears set-id bits as before), xattrs, nanosecond times, owner, --chmod, and entries in the
way replaced in an existing destination.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import io
import os
import shutil
import stat
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from dockwright.builder import copy as cp
from dockwright.builder.context import Source
from dockwright.builder.copyindex import copy_from_index
from dockwright.builder.ctxindex import SpoolingReader, index_stream
from dockwright.builder.ctxtree import LazyTree
from dockwright.builder.ignore import parse_ignore
from dockwright.engine.builds.scratchroot import ScratchRoot
from dockwright.image.layers import LayerStore
from dockwright.kernel.fakes import RecordingMounter
from dockwright.kernel.libc import SyscallError
from dockwright.store.db import Database

pytestmark = pytest.mark.unit

NS = 1_700_000_000_123_456_789


def source_tree(root: Path) -> Path:
    src = root / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "deep.txt").write_bytes(b"deep\n" * 1000)
    (src / "a" / "empty").write_bytes(b"")
    (src / "top.sh").write_bytes(b"#!/bin/sh\n")
    os.chmod(src / "top.sh", 0o4755)
    (src / "big.bin").write_bytes(os.urandom(3 << 20))
    os.symlink("a/b/deep.txt", src / "link")
    os.setxattr(src / "a" / "empty", "user.note", b"kept")
    os.chmod(src / "a" / "b", 0o700)
    for path in [*sorted(src.rglob("*"), reverse=True), src]:
        os.utime(path, ns=(NS, NS), follow_symlinks=False)
    return src


def view(root: Path) -> list[tuple[object, ...]]:
    out = []
    for path in sorted(root.rglob("*")):
        st = os.lstat(path)
        body: object = None
        if stat.S_ISREG(st.st_mode):
            body = hashlib.sha256(path.read_bytes()).hexdigest()
        elif stat.S_ISLNK(st.st_mode):
            body = os.readlink(path)
        xattrs = {n: os.getxattr(path, n, follow_symlinks=False)
                  for n in os.listxattr(path, follow_symlinks=False)}  # fmt: skip
        mtime = None if stat.S_ISLNK(st.st_mode) else st.st_mtime_ns  # a link's: when made
        out.append((str(path.relative_to(root)), st.st_mode, st.st_uid, st.st_gid, mtime, body,
                    xattrs))  # fmt: skip
    return out


def old_way(src: Path, dest: Path, ids: tuple[int, int], mode: int | None) -> None:
    """The copy as it was: shutil.copy2, chown, --chmod; directories restamped at the end."""
    dest.mkdir(exist_ok=True)
    for path in sorted(src.rglob("*")):
        dst = dest / path.relative_to(src)
        if path.is_symlink():
            os.symlink(os.readlink(path), dst)
            os.chown(dst, *ids, follow_symlinks=False)
            continue
        if path.is_dir():
            dst.mkdir()
            shutil.copystat(path, dst)
        else:
            shutil.copy2(path, dst)
        os.chown(dst, *ids)
        if mode is not None:
            os.chmod(dst, mode)
    for path in sorted((p for p in src.rglob("*") if p.is_dir() and not p.is_symlink()),
                       reverse=True):  # fmt: skip
        st = os.stat(path)
        os.utime(dest / path.relative_to(src), ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("mode", [None, 0o640])
def test_a_fresh_directory_gets_what_copy2_gave(tmp_path, mode):
    src = source_tree(tmp_path)
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("app:x:1234:1235::/:/bin/sh\n")
    spec = cp.CopySpec((Source(src, "src", True),), "/out/", chown="app", chmod=mode)
    cp.copy_sources(root, spec)
    old_way(src, tmp_path / "expected", (1234, 1235), mode)
    assert view(root / "out") == view(tmp_path / "expected")
    assert not os.stat(root / "out" / "top.sh").st_mode & stat.S_ISUID  # chown cleared it


def test_entries_in_the_way_are_replaced_in_an_existing_directory(tmp_path):
    src = source_tree(tmp_path)
    root = tmp_path / "root"
    (root / "out" / "top.sh").mkdir(parents=True)  # a directory where a file goes
    (root / "out" / "a").write_text("a file where a directory goes")
    os.symlink("/etc", root / "out" / "link")
    (root / "out" / "other").write_text("stays\n")
    cp.copy_sources(root, cp.CopySpec((Source(src, "src", True),), "/out"))
    expected = tmp_path / "expected"
    old_way(src, expected, (0, 0), None)
    shutil.copy2(root / "out" / "other", expected / "other")
    os.utime(expected, ns=(NS, NS))
    assert view(root / "out") == view(expected)


def test_fifos_are_made_anew(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe")
    os.chmod(src / "pipe", 0o620)
    root = tmp_path / "root"
    root.mkdir()
    cp.copy_sources(root, cp.CopySpec((Source(src, "src", True),), "/out"))
    st = os.lstat(root / "out" / "pipe")
    assert stat.S_ISFIFO(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o620


def lazy_tree(tmp: Path, src: Path) -> LazyTree:
    """`src` as a lazy context: tarred, spooled and indexed as the daemon receives it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.add(src, arcname=".")
    pieces = iter([buf.getvalue()])
    spool = tmp / "context.tar"
    with spool.open("wb") as f:
        reader = SpoolingReader(lambda: next(pieces, b""), f)
        index = index_stream(reader)
        reader.drain()
    (tmp / "context").mkdir()
    return LazyTree(tmp / "context", index, spool)


@pytest.mark.parametrize(("rel", "exclude"), [("", []), ("a", []), ("", ["*.bin", "a/b"])])
def test_a_lazy_directory_is_copied_from_the_spool_as_from_disk(tmp_path, rel, exclude):
    src = source_tree(tmp_path)
    os.symlink("a", src / "dirlink")  # a link to a directory is copied as a link
    os.utime(src, ns=(NS, NS))
    tree = lazy_tree(tmp_path, src)
    lazy = Source(tree.root / rel, rel or ".", True, tree=tree, rel=rel)
    patterns = parse_ignore("\n".join(exclude)) if exclude else []
    from_spool, from_disk = tmp_path / "spool", tmp_path / "disk"
    from_spool.mkdir()
    from_disk.mkdir()
    assert copy_from_index(lazy, from_spool, (1234, 1235), 0o751, patterns)
    assert not any(tree.root.iterdir())  # nothing written out to read it back
    cp._copy_tree(lazy.path, from_disk, (1234, 1235), 0o751, patterns, fresh=True)
    assert view(from_spool) == view(from_disk)
    assert len(view(from_spool)) >= 3


def test_a_source_outside_a_lazy_context_is_left_to_the_disk_copy(tmp_path):
    src = source_tree(tmp_path)
    assert not copy_from_index(Source(src, "src", True), tmp_path / "out", (0, 0), None, [])


class Images:
    """The two things ScratchRoot asks of the image store: its layers and an image's top."""

    def __init__(self, layers: LayerStore, top: str | None) -> None:
        self.layers, self.top = layers, top

    def get(self, image_id: str) -> SimpleNamespace:
        return SimpleNamespace(top_layer=self.top)


@pytest.fixture
def layer_store(tmp_path):
    db = Database(tmp_path / "state.db")
    yield LayerStore(db, tmp_path / "layers", chown=False)
    db.close()


def one_layer(layers: LayerStore) -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        tf.addfile(tarfile.TarInfo("etc"), None)
    layer = layers.apply([buf.getvalue()])
    layers.acquire(layer.chain_id)  # the image's reference
    return layer.chain_id


def test_a_writable_scratch_root_is_volatile_and_leaves_nothing(layer_store):
    top = one_layer(layer_store)
    mounter = RecordingMounter()
    root = ScratchRoot(Images(layer_store, top), "img", writable=True, mounter=mounter)

    async def use() -> None:
        async with root:
            assert layer_store.refs(top) == 2  # held while mounted
            assert root.upper.is_dir() and root.upper.parent.name.startswith(".tmp-")
            root.unmount()

    asyncio.run(use())
    mount, unmount = mounter.calls
    assert mount.kind == "mount" and mount.fstype == "overlay"
    lower = layer_store.get(top).path
    assert mount.data == (f"lowerdir={lower},upperdir={root.upper},"
                          f"workdir={root.upper.parent / 'work'},volatile")  # fmt: skip
    assert unmount.kind == "unmount" and unmount.flags == 0  # not lazy: the upper is complete
    assert layer_store.refs(top) == 1
    assert sorted(p.name for p in layer_store.root.iterdir()) == sorted(
        ["empty", lower.parent.name]
    )


class NoVolatile(RecordingMounter):
    """A kernel that refuses overlayfs' `volatile` (before 5.10)."""

    def mount(self, source: str, target: Path, fstype: str, flags: int = 0, data: str = "") -> None:
        if "volatile" in data:
            raise SyscallError(f"mount {fstype} on {target}: invalid argument", errno.EINVAL)
        super().mount(source, target, fstype, flags, data)


def test_where_the_kernel_refuses_volatile_it_mounts_as_before(layer_store):
    mounter = NoVolatile()
    root = ScratchRoot(Images(layer_store, None), "img", writable=True, mounter=mounter)

    async def use() -> None:
        async with root:
            assert mounter.is_mountpoint(root.merged)

    asyncio.run(use())
    overlay = mounter.calls[0]
    assert overlay.kind == "overlay" and overlay.lowerdirs == (layer_store.empty_dir,)
    assert overlay.upper == root.upper and not root.upper.parent.exists()


@pytest.mark.parametrize("layers_in_chain", [0, 1])
def test_a_read_only_root_has_two_lowerdirs_at_least(layer_store, layers_in_chain):
    top = one_layer(layer_store) if layers_in_chain else None
    mounter = RecordingMounter()
    root = ScratchRoot(Images(layer_store, top), "img", writable=False, mounter=mounter)

    async def use() -> list[Path]:
        async with root:
            return list(mounter.calls[0].lowerdirs)

    lowers = asyncio.run(use())
    expected = [layer_store.get(top).path] if top else []
    assert lowers == [*expected, layer_store.empty_dir, root.upper][:2]
    assert mounter.calls[0].upper is None
