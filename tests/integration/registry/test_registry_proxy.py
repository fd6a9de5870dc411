"""Pull-through cache with Debian's `docker-registry` (the CNCF registry) as the upstream."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time

import pytest
from ocilayout import make_layout
from registry_proc import skopeo, start_registry

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def upstream(workdir):
    """The CNCF registry on a loopback port, killed by PID afterwards."""
    port = _free_port()
    config = workdir / "cncf.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'cncf'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
    )
    proc = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port, proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_pull_through_cache_serves_and_survives_upstream_loss(workdir, upstream):
    port, proc = upstream
    layout = workdir / "img"
    digest = make_layout(layout, {"payload": os.urandom(200_000)})
    skopeo(
        "copy",
        "--dest-tls-verify=false",
        f"oci:{layout}:latest",
        f"docker://127.0.0.1:{port}/library/app:1.0",
    )
    reg = start_registry(workdir / "root", "--proxy", f"up=http://127.0.0.1:{port}")
    try:
        ref = f"docker://{reg.host}/up/library/app:1.0"
        info = json.loads(skopeo("inspect", "--tls-verify=false", ref).stdout)
        assert info["Digest"] == digest
        skopeo("copy", "--src-tls-verify=false", ref, f"oci:{workdir / 'first'}:x")
        cached = {p.name for p in (reg.root / "blobs" / "sha256").iterdir()}
        assert {p.name for p in (layout / "blobs" / "sha256").iterdir()} <= cached

        os.kill(proc.pid, signal.SIGKILL)  # the upstream goes away; the cache still serves
        proc.wait(timeout=10)
        skopeo("copy", "--src-tls-verify=false", ref, f"oci:{workdir / 'second'}:x")
        assert {p.name for p in (workdir / "second" / "blobs" / "sha256").iterdir()} == {
            p.name for p in (layout / "blobs" / "sha256").iterdir()
        }
        status, _, body = reg.request("GET", "/v2/up/library/other/manifests/latest")
        assert status == 503 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        push = skopeo(
            "copy",
            "--dest-tls-verify=false",
            f"oci:{layout}:latest",
            f"docker://{reg.host}/up/library/app:new",
            check=False,
        )
        assert push.returncode != 0  # proxied repositories are read-only
    finally:
        assert reg.stop() == 0
