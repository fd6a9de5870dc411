"""`dockwright --tlsverify` against a daemon serving TCP with TLS and client certificates."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from cli_e2e import DOCKWRIGHT
from tests.integration.conftest import start_daemon, stop_daemon

pytestmark = pytest.mark.integration


def _openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(cwd: Path, name: str, usage: str) -> None:
    """A key and a certificate for `name`, signed by ca.pem."""
    (cwd / f"{name}.cnf").write_text(f"subjectAltName=IP:127.0.0.1\nextendedKeyUsage={usage}\n")
    _openssl(
        cwd,
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
    )
    _openssl(
        cwd,
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
        f"{name}.cnf",
        "-out",
        f"{name}.pem",
    )


def _pki(cwd: Path) -> None:
    _openssl(
        cwd,
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=cli-test-ca",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
    )
    _issue(cwd, "server", "serverAuth")
    _issue(cwd, "client", "clientAuth")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(
    host: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    full_env = {**inherited, "DOCKER_HOST": host, **(env or {})}
    return subprocess.run(
        [DOCKWRIGHT, *args], capture_output=True, text=True, env=full_env, timeout=60
    )


def test_tls_verify_with_client_certificate() -> None:
    root = Path(tempfile.mkdtemp(prefix="dwcli-tls-", dir="/tmp"))
    _pki(root)
    host = f"tcp://127.0.0.1:{_port()}"
    tls = (
        "--tlsverify",
        "--tlscacert",
        str(root / "ca.pem"),
        "--tlscert",
        str(root / "server.pem"),
        "--tlskey",
        str(root / "server-key.pem"),
    )
    d = start_daemon(root, ("-H", host, *tls))
    try:
        ca, cert, key = (str(root / n) for n in ("ca.pem", "client.pem", "client-key.pem"))
        flags = ("--tlsverify", f"--tlscacert={ca}", f"--tlscert={cert}", f"--tlskey={key}")
        ok = _cli(host, *flags, "version", "--format", "{{.Server.APIVersion}}")
        assert (ok.returncode, ok.stdout) == (0, "1.45\n"), ok.stderr
        assert _cli(host, *flags, "ps", "-q").returncode == 0
        no_cert = _cli(host, "--tlsverify", f"--tlscacert={ca}", "ps")
        assert no_cert.returncode == 1
        plain = _cli(host, "ps")
        assert plain.returncode == 1
        certs = root / "certs"
        certs.mkdir()
        for src, dst in (
            ("ca.pem", "ca.pem"),
            ("client.pem", "cert.pem"),
            ("client-key.pem", "key.pem"),
        ):
            shutil.copy(root / src, certs / dst)
        env_only = _cli(
            host, "ps", "-q", env={"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
        )
        assert env_only.returncode == 0, env_only.stderr
    finally:
        stop_daemon(d)
        shutil.rmtree(root, ignore_errors=True)
