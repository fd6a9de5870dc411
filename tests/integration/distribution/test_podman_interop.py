"""Archives cross engines: what dockwrightd saves, Podman loads; what Podman saves (docker-archive
and OCI archive), dockwrightd loads. Podman runs with its own temporary root and the vfs driver."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def podman():
    root = Path(tempfile.mkdtemp(prefix="dwt-podman-", dir="/tmp"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        base = ["podman", "--root", str(root / "root"), "--runroot", str(root / "run"),
                "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                "--network-config-dir", str(root / "net")]  # fmt: skip
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=120)

    try:
        yield run, root
    finally:
        run("rmi", "-a", "-f")
        shutil.rmtree(root, ignore_errors=True)


def _layers(inspect_json: str) -> list[str]:
    return json.loads(inspect_json)[0]["RootFS"]["Layers"]


def test_save_here_load_in_podman_and_back(daemon, podman):
    run, root = podman
    ours = daemon.docker("image", "inspect", "busybox").stdout
    saved = root / "ours.tar"
    assert daemon.docker("save", "-o", str(saved), "busybox:latest").returncode == 0
    loaded = run("load", "-i", str(saved))
    assert loaded.returncode == 0, loaded.stderr
    theirs = run("image", "inspect", "docker.io/library/busybox:latest")
    assert theirs.returncode == 0, theirs.stderr
    assert _layers(theirs.stdout) == _layers(ours)

    for fmt in ("docker-archive", "oci-archive"):
        out = root / f"podman-{fmt}.tar"
        r = run("save", "--format", fmt, "-o", str(out), "docker.io/library/busybox:latest")
        assert r.returncode == 0, r.stderr
        assert daemon.docker("rmi", "-f", "podbox:1").returncode in (0, 1)
        back = daemon.docker("load", "-i", str(out))
        assert back.returncode == 0, back.stderr
        ref = back.stdout.strip().rsplit(" ", 1)[-1]
        assert daemon.docker("tag", ref, "podbox:1").returncode == 0
        again = daemon.docker("image", "inspect", "podbox:1").stdout
        assert _layers(again) == _layers(ours)
        r = daemon.docker("run", "--rm", "podbox:1", "echo", f"loaded from {fmt}")
        assert r.stdout == f"loaded from {fmt}\n", r.stderr
    daemon.docker("rmi", "podbox:1")
