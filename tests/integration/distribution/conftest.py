"""A real registry (Debian's docker-registry, the CNCF distribution registry) on 127.0.0.1.

Each fixture starts its own registry on a free port with storage under a temp dir, optionally
behind htpasswd basic auth, and stops it by PID. `Registry` also speaks the registry API
directly, so tests can publish what no client here makes (indexes, OCI manifests, bad blobs).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REGISTRY = "/usr/bin/docker-registry"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Registry:
    root: Path
    port: int
    proc: subprocess.Popen[bytes]
    user: str = ""
    password: str = ""

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _request(self, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:  # fmt: skip
        url = path if path.startswith("http") else f"http://{self.host}{path}"
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        if self.user:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            req.add_header("Authorization", "Basic " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)

    def put_blob(self, repo: str, data: bytes) -> str:
        """Upload a blob monolithically; returns its digest."""
        status, _, headers = self._request("POST", f"/v2/{repo}/blobs/uploads/", b"")
        assert status == 202, status
        location = headers["Location"]
        sep = "&" if "?" in location else "?"
        digest = sha(data)
        status, body, _ = self._request("PUT", f"{location}{sep}digest={digest}", data,
                                        {"Content-Type": "application/octet-stream"})  # fmt: skip
        assert status == 201, body
        return digest

    def put_manifest(self, repo: str, ref: str, doc: dict, media: str) -> str:
        body = json.dumps(doc).encode()
        status, resp, _ = self._request("PUT", f"/v2/{repo}/manifests/{ref}", body,
                                        {"Content-Type": media})  # fmt: skip
        assert status == 201, resp
        return sha(body)

    def get_manifest(self, repo: str, ref: str) -> bytes:
        accept = ("application/vnd.oci.image.manifest.v1+json, "
                  "application/vnd.docker.distribution.manifest.v2+json")  # fmt: skip
        status, body, _ = self._request("GET", f"/v2/{repo}/manifests/{ref}", None,
                                        {"Accept": accept})  # fmt: skip
        assert status == 200, body
        return body

    def get(self, path: str) -> tuple[int, bytes]:
        status, body, _ = self._request("GET", path)
        return status, body

    def blob_path(self, digest: str) -> Path:
        hex_ = digest.removeprefix("sha256:")
        return self.root / "storage/docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_registry(user: str = "", password: str = "") -> Registry:
    root = Path(tempfile.mkdtemp(prefix="dwt-registry-", dir="/tmp"))
    port = free_port()
    config = [
        "version: 0.1",
        "log:\n  level: warn",
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'storage'}\n  delete:\n    enabled: true",
        f"http:\n  addr: 127.0.0.1:{port}",
    ]
    if user:
        subprocess.run(["htpasswd", "-Bbc", str(root / "htpasswd"), user, password], check=True,
                       capture_output=True)  # fmt: skip
        config.append(f"auth:\n  htpasswd:\n    realm: test\n    path: {root / 'htpasswd'}")
    (root / "config.yml").write_text("\n".join(config) + "\n")
    log = (root / "registry.log").open("wb")
    proc = subprocess.Popen([REGISTRY, "serve", str(root / "config.yml")], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    reg = Registry(root, port, proc, user, password)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return reg
        except OSError:
            time.sleep(0.05)
    stop_registry(reg)
    raise RuntimeError("docker-registry did not start")


def stop_registry(reg: Registry) -> None:
    if reg.proc.poll() is None:
        reg.proc.terminate()
        try:
            reg.proc.wait(10)
        except subprocess.TimeoutExpired:
            reg.proc.kill()
            reg.proc.wait(5)
    shutil.rmtree(reg.root, ignore_errors=True)


@pytest.fixture(scope="module")
def registry():
    reg = start_registry()
    try:
        yield reg
    finally:
        stop_registry(reg)


@pytest.fixture(scope="module")
def auth_registry():
    reg = start_registry("alice", "s3cret")
    try:
        yield reg
    finally:
        stop_registry(reg)
