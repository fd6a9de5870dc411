"""Fixtures: a registry server on a temporary root (removed afterwards), OCI layouts."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_proc import Registry, start_registry


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="dw-registry-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def registry(workdir: Path) -> Iterator[Registry]:
    reg = start_registry(workdir / "root")
    yield reg
    assert reg.stop() == 0
