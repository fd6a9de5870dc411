"""Layers, whiteouts and snapshots on the real kernel: extraction as root and an overlay mount.

Mounts are made with mount(8) here in the test only (the engine mounts through kernel/mount.py).
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from dockwright.engine.images import ImageService
from dockwright.image import config as cfg
from dockwright.image.extract import extract
from dockwright.image.tardiff import tar_diff
from dockwright.store.db import Database

pytestmark = pytest.mark.integration


def tar_of(*entries: tuple) -> bytes:
    """entries: (name, type, data, mode, uid, gid, extra) with extra a dict of TarInfo fields."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, data, mode, uid, gid, extra in entries:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid, info.mtime = (
                kind,
                mode,
                uid,
                gid,
                1_700_000_000,
            )
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            for key, value in extra.items():
                setattr(info, key, value)
            tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


def f(name, data=b"", mode=0o644, uid=0, gid=0, **extra):
    return (name, tarfile.REGTYPE, data, mode, uid, gid, extra)


def d(name, mode=0o755, uid=0, gid=0, **extra):
    return (name, tarfile.DIRTYPE, b"", mode, uid, gid, extra)


@pytest.fixture
def root():
    if os.geteuid() != 0:
        pytest.fail("integration tests need root")
    path = Path(tempfile.mkdtemp(prefix="dwt-img-", dir="/tmp"))
    yield path
    for line in reversed(Path("/proc/self/mountinfo").read_text().splitlines()):
        mountpoint = line.split()[4]
        if mountpoint.startswith(str(path)):
            subprocess.run(["umount", "-l", mountpoint], check=False)
    shutil.rmtree(path, ignore_errors=True)


class Events:
    def publish(self, *args):
        pass


@pytest.fixture
def svc(root):
    db = Database(root / "state.db")
    yield ImageService(root / "data", db, Events())
    db.close()


# vfs_cap_data v2 with the effective flag: cap_net_bind_service+ep
CAP = "\x01\x00\x00\x02\x00\x04" + "\x00" * 14


def test_root_extraction_keeps_owners_devices_whiteouts_and_xattrs(root):
    data = tar_of(
        d("home/user", mode=0o750, uid=1000, gid=1000),
        f("home/user/suid", b"x", mode=0o4755, uid=1000, gid=1000),
        f("bin/ping", b"p", mode=0o755, uid=0, gid=42, pax_headers={"SCHILY.xattr.security.capability": CAP}),
        ("dev/null", tarfile.CHRTYPE, b"", 0o666, 0, 0, {"devmajor": 1, "devminor": 3}),
        ("dev/loop9", tarfile.BLKTYPE, b"", 0o660, 0, 6, {"devmajor": 7, "devminor": 9}),
        f("var/.wh.cache", uid=5, gid=6),
        d("opt/app"),
        f("opt/app/.wh..wh..opq"),
        d("srv", pax_headers={"SCHILY.xattr.trusted.note": "t", "SCHILY.xattr.trusted.overlay.redirect": "/x"}),
    )  # fmt: skip
    dest = root / "layer"
    dest.mkdir()
    extract([data], dest)
    suid = os.stat(dest / "home/user/suid")
    assert (suid.st_uid, suid.st_gid, stat.S_IMODE(suid.st_mode)) == (1000, 1000, 0o4755)
    home = os.stat(dest / "home/user")
    assert (home.st_uid, stat.S_IMODE(home.st_mode)) == (1000, 0o750)
    assert os.stat(dest / "bin/ping").st_gid == 42
    assert os.getxattr(dest / "bin/ping", "security.capability") == CAP.encode(
        "latin-1"
    )  # set after chown
    null = os.lstat(dest / "dev/null")
    assert stat.S_ISCHR(null.st_mode) and (os.major(null.st_rdev), os.minor(null.st_rdev)) == (1, 3)
    assert stat.S_IMODE(null.st_mode) == 0o666
    loop = os.lstat(dest / "dev/loop9")
    assert stat.S_ISBLK(loop.st_mode) and loop.st_gid == 6
    wh = os.lstat(dest / "var/cache")
    assert stat.S_ISCHR(wh.st_mode) and wh.st_rdev == 0 and (wh.st_uid, wh.st_gid) == (5, 6)
    assert os.getxattr(dest / "opt/app", "trusted.overlay.opaque") == b"y"
    assert not (dest / "opt/app/.wh..wh..opq").exists()
    assert os.getxattr(dest / "srv", "trusted.note") == b"t"
    assert "trusted.overlay.redirect" not in os.listxattr(dest / "srv")


def mount(plan) -> None:
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", plan.options, str(plan.target)], check=True
    )


def umount(plan) -> None:
    subprocess.run(["umount", str(plan.target)], check=True)


def tree(path: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        rel = os.path.relpath(dirpath, path)
        for name in dirnames:
            out[os.path.normpath(f"{rel}/{name}")] = None
        for name in filenames:
            out[os.path.normpath(f"{rel}/{name}")] = (Path(dirpath) / name).read_bytes()
    return out


BASE = tar_of(
    d("etc"), f("etc/a", b"a"), f("etc/b", b"b"), d("dir"), f("dir/x", b"x"), f("dir/y", b"y")
)
TOP = tar_of(f("etc/.wh.b"), d("dir"), f("dir/.wh..wh..opq"), f("dir/z", b"z"), f("top", b"t"))


async def body(data: bytes):
    for i in range(0, len(data), 4096):
        yield data[i : i + 4096]


def two_layer_image(svc: ImageService) -> str:
    base = svc.layers.apply([BASE])
    top = asyncio.run(svc.layers.apply_async(body(TOP), parent=base.chain_id))
    return svc.store.create(cfg.encode(cfg.import_config([base.diff_id, top.diff_id], [], "", 1)))


def test_overlay_mount_of_a_prepared_plan(svc, root):
    image_id = two_layer_image(svc)
    plan = svc.snapshots.prepare(image_id, "c1" * 32)
    mount(plan)
    try:
        assert tree(plan.target) == {
            "etc": None,
            "etc/a": b"a",
            "dir": None,
            "dir/z": b"z",
            "top": b"t",
        }
        (plan.target / "etc" / "a").unlink()
        shutil.rmtree(plan.target / "dir")
        (plan.target / "dir").mkdir()
        (plan.target / "dir" / "n").write_bytes(b"n")
        (plan.target / "new").write_bytes(b"new")
        (plan.target / "top").write_bytes(b"changed")
        merged = tree(plan.target)
    finally:
        umount(plan)
    assert svc.snapshots.changes("c1" * 32) == [
        (2, "/dir"), (1, "/dir/n"), (0, "/etc"), (2, "/etc/a"), (1, "/new"), (0, "/top"),
    ]  # fmt: skip

    # commit-like: the upper dir as a layer on top of the image gives the same view
    top_chain = svc.store.get(image_id).top_layer
    layer = svc.layers.apply(tar_diff(plan.upperdir), parent=top_chain)
    diff_ids = cfg.diff_ids(svc.image_config(image_id)) + [layer.diff_id]
    committed = svc.store.create(cfg.encode(cfg.import_config(diff_ids, [], "", 2)))
    second = svc.snapshots.prepare(committed, "c2" * 32)
    assert second.lowerdirs[0] == layer.path and len(second.lowerdirs) == 3
    mount(second)
    try:
        assert tree(second.target) == merged
    finally:
        umount(second)

    for cid in ("c1" * 32, "c2" * 32):
        svc.snapshots.remove(cid)
        assert not (svc.snapshots.container_dir(cid)).exists()


def test_snapshot_of_an_image_without_layers_mounts(svc):
    image_id = svc.store.create(cfg.encode(cfg.import_config([], [], "", 1)))
    plan = svc.snapshots.prepare(image_id, "e" * 64)
    mount(plan)
    try:
        (plan.target / "hello").write_text("hi")
        assert os.listdir(plan.target) == ["hello"]
    finally:
        umount(plan)
    assert os.listdir(svc.layers.empty_dir) == []
    svc.snapshots.remove("e" * 64)


def test_remove_refuses_a_mounted_snapshot(svc):
    image_id = two_layer_image(svc)
    plan = svc.snapshots.prepare(image_id, "f" * 64)
    mount(plan)
    try:
        with pytest.raises(Exception, match="still mounted"):
            svc.snapshots.remove("f" * 64)
        assert (plan.target / "top").read_bytes() == b"t"
    finally:
        umount(plan)
    svc.snapshots.remove("f" * 64)
    assert all(layer.path.is_dir() for layer in svc.store.layers_of(image_id))
