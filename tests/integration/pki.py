"""A throwaway PKI for TLS tests: ca.pem, server.pem/server-key.pem (IP 127.0.0.1) and
client.pem/client-key.pem, made with the openssl binary in a directory of the caller's."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path


def _openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(cwd: Path, name: str, usage: str) -> None:
    """A key and a certificate for `name`, signed by ca.pem."""
    (cwd / f"{name}.cnf").write_text(f"subjectAltName=IP:127.0.0.1\nextendedKeyUsage={usage}\n")
    _openssl(cwd, "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
             "-keyout", f"{name}-key.pem", "-out", f"{name}.csr")  # fmt: skip
    _openssl(cwd, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
             "-CAcreateserial", "-days", "1", "-extfile", f"{name}.cnf", "-out", f"{name}.pem")  # fmt: skip


def make_pki(cwd: Path) -> None:
    _openssl(cwd, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=dockwright-test-ca", "-keyout", "ca-key.pem", "-out", "ca.pem")  # fmt: skip
    _issue(cwd, "server", "serverAuth")
    _issue(cwd, "client", "clientAuth")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
