"""A registry server in a child process on a loopback port, stopped by PID."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PYTHON = REPO / ".venv" / "bin" / "python"


@dataclass
class Registry:
    proc: subprocess.Popen[bytes]
    port: int
    root: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(timeout=10)


def start_registry(root: Path, *args: str) -> Registry:
    """Start `registry serve` on an ephemeral loopback port; waits until it listens."""
    proc = subprocess.Popen(
        [
            str(PYTHON),
            "-m",
            "dockwright.registry.cli",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--root",
            str(root),
            *args,
        ],
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if m is None:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"registry did not start: {line}{proc.stderr.read().decode()}")
    proc.stderr.close()
    return Registry(proc, int(m.group(1)), root)


def skopeo(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, timeout=60, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)} failed: {result.stderr}")
    return result
