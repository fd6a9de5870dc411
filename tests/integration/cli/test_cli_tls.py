"""`dockwright --tlsverify` against a daemon serving TCP with TLS and client certificates."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from cli_e2e import DOCKWRIGHT
from tests.integration.conftest import start_daemon, stop_daemon
from tests.integration.pki import free_port, make_pki

pytestmark = pytest.mark.integration


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
    make_pki(root)
    host = f"tcp://127.0.0.1:{free_port()}"
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
