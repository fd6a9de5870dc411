"""The API over TCP with TLS and client certificates, as `dockerd --tlsverify` serves it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from tests.integration.conftest import DOCKER, start_daemon, stop_daemon

pytestmark = pytest.mark.integration


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_pki(d: Path) -> None:
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        cwd=d,
    )
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    (d / "client.cnf").write_text("extendedKeyUsage=clientAuth\n")
    for name, ext in (("server", "ext.cnf"), ("client", "client.cnf")):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={name}",
            "-keyout",
            f"{name}-key.pem",
            "-out",
            f"{name}.csr",
            cwd=d,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            ext,
            "-out",
            f"{name}.pem",
            cwd=d,
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tlsverify_accepts_client_certificates_only():
    root = Path(tempfile.mkdtemp(prefix="dwt-tls-", dir="/tmp"))
    _make_pki(root)
    port = _free_port()
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
