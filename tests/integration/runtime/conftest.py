"""Fixtures for the runtime driver's real-kernel tests (helpers live in rt_sandbox.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from rt_sandbox import Sandbox, write_busybox_rootfs

from dockwright.kernel.cgroups import remove_cgroup


@pytest.fixture(scope="session")
def busybox_rootfs() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("runtime integration tests need root")
    base = Path(tempfile.mkdtemp(prefix="dw-rootfs-"))
    write_busybox_rootfs(base / "rootfs")
    yield base / "rootfs"
    shutil.rmtree(base, ignore_errors=True)
    remove_cgroup("/dockwright-test")


@pytest.fixture
def sandbox(busybox_rootfs: Path) -> Iterator[Sandbox]:
    root = Path(tempfile.mkdtemp(prefix="dw-rt-"))
    box = Sandbox(root, busybox_rootfs, f"/dockwright-test/{root.name}")
    try:
        yield box
    finally:
        box.cleanup()
