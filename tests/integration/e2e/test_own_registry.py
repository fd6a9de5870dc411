"""The whole chain with nothing but our own pieces: dockwrightd pushes to and pulls from
`dockwright registry serve`, driven by the real docker CLI and by the dockwright CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.integration.registry.registry_proc import start_registry

pytestmark = pytest.mark.integration

DWCLI = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "dockwright"


@pytest.fixture
def registry():
    root = Path(tempfile.mkdtemp(prefix="dwt-reg-", dir="/tmp"))
    reg = start_registry(root / "data")
    try:
        yield reg
    finally:
        reg.stop()
        shutil.rmtree(root, ignore_errors=True)


def _dw(daemon, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": daemon.host}
    return subprocess.run([str(DWCLI), *args], capture_output=True, text=True, env=env, timeout=60)


def test_push_pull_round_trip_through_our_registry(daemon, registry):
    ref = f"{registry.host}/team/bb:1"
    d = daemon.docker
    assert d("tag", "busybox", ref).returncode == 0
    pushed = d("push", ref)
    assert pushed.returncode == 0, pushed.stderr
    assert "digest: sha256:" in pushed.stdout
    again = _dw(daemon, "push", ref)
    assert again.returncode == 0 and "Layer already exists" in again.stdout, again.stderr
    assert d("rmi", ref).returncode == 0
    pulled = _dw(daemon, "pull", ref)
    assert pulled.returncode == 0, pulled.stderr
    assert f"Status: Downloaded newer image for {ref}" in pulled.stdout
    run = d("run", "--rm", ref, "echo", "from our registry")
    assert (run.returncode, run.stdout) == (0, "from our registry\n"), run.stderr
    status, _, body = registry.request("GET", "/v2/team/bb/tags/list")
    assert status == 200 and b'"1"' in body
    assert d("rmi", ref).returncode == 0


def test_pull_stream_has_dockers_status_sequence(daemon, registry):
    import json

    ref = f"{registry.host}/team/seq"
    assert daemon.docker("tag", "busybox", f"{ref}:1").returncode == 0
    assert daemon.docker("push", f"{ref}:1").returncode == 0
    assert daemon.docker("rmi", f"{ref}:1").returncode == 0
    daemon.docker("rmi", "-f", "busybox")  # its layer must really be fetched
    status, body = daemon.request("POST", f"/images/create?fromImage={ref}&tag=1")
    assert status == 200
    messages = [json.loads(line) for line in body.splitlines() if line.strip()]
    layer = next(m["id"] for m in messages if m.get("status") == "Pulling fs layer")
    seen = [m["status"] for m in messages if m.get("id") == layer]
    order = ["Pulling fs layer", "Downloading", "Verifying Checksum", "Download complete",
             "Extracting", "Pull complete"]  # fmt: skip
    assert [s for s in order if s in seen] == order, seen
    assert any(m.get("status", "").startswith("Digest: sha256:") for m in messages)
    assert messages[-1]["status"] == f"Status: Downloaded newer image for {ref}:1"
    assert daemon.docker("tag", f"{ref}:1", "busybox:latest").returncode == 0
    assert daemon.docker("rmi", f"{ref}:1").returncode == 0
