"""The API over TCP with TLS and client certificates, as `dockerd --tlsverify` serves it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from tests.integration.conftest import DOCKER, start_daemon, stop_daemon
from tests.integration.pki import free_port, make_pki

pytestmark = pytest.mark.integration


def test_tlsverify_accepts_client_certificates_only():
    root = Path(tempfile.mkdtemp(prefix="dwt-tls-", dir="/tmp"))
    make_pki(root)
    port = free_port()
    d = start_daemon(
        root,
        (
            "-H",
            f"tcp://127.0.0.1:{port}",
            "--tlsverify",
            "--tlscacert",
            str(root / "ca.pem"),
            "--tlscert",
            str(root / "server.pem"),
            "--tlskey",
            str(root / "server-key.pem"),
        ),
    )
    try:
        env = {**os.environ, "DOCKER_HOST": f"tcp://127.0.0.1:{port}"}
        tls = [
            "--tlsverify",
            f"--tlscacert={root / 'ca.pem'}",
            f"--tlscert={root / 'client.pem'}",
            f"--tlskey={root / 'client-key.pem'}",
        ]
        ok = subprocess.run(
            [DOCKER, *tls, "version", "--format", "{{.Server.APIVersion}}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert ok.stdout.strip() == "1.45", ok.stderr
        no_cert = subprocess.run(
            [DOCKER, "--tlsverify", f"--tlscacert={root / 'ca.pem'}", "version"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert no_cert.returncode != 0
    finally:
        stop_daemon(d)
        shutil.rmtree(root, ignore_errors=True)
