"""A real dockwrightd on a temporary root, socket and exec root, shared by a test module.

The daemon is killed by PID at the end; the fixture then checks that nothing of it remained
(mounts under its root) and removes the root.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAEMON = REPO / ".venv" / "bin" / "dockwrightd"
DOCKER = shutil.which("docker") or "/usr/local/bin/docker"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


@dataclass
class Daemon:
    root: Path
    socket: Path
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ):
        conn = UnixHTTPConnection(str(self.socket))
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data

    def docker(
        self, *args: str, input: bytes | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "0"}
        env.pop("DOCKER_CONTEXT", None)
        return subprocess.run(
            [DOCKER, *args],
            capture_output=True,
            text=input is None,
            input=input,
            env=env,
            timeout=timeout,
        )

    def client(self):
        import docker

        return docker.DockerClient(base_url=self.host, version="1.45", timeout=60)


def start_daemon(root: Path, extra: tuple[str, ...] = ()) -> Daemon:
    sock = root / "d.sock"
    log = root / "daemon.log"
    proc = subprocess.Popen(
        [
            str(DAEMON),
            "--host",
            f"unix://{sock}",
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "run"),
            "--debug",
            *extra,
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    d = Daemon(root, sock, proc, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("dockwrightd exited:\n" + log.read_text()[-3000:])
        try:
            if d.request("GET", "/_ping")[0] == 200:
                return d
        except OSError:
            pass
        time.sleep(0.05)
    stop_daemon(d)
    raise RuntimeError("dockwrightd did not answer:\n" + log.read_text()[-3000:])


def stop_daemon(d: Daemon, sig: int = signal.SIGTERM) -> None:
    if d.proc.poll() is None:
        d.proc.send_signal(sig)
        try:
            d.proc.wait(20)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait(10)


def bootstrap_busybox(d: Daemon, tag: str = "busybox:latest") -> str:
    from dockwright.cli.bootstrap import write_busybox_rootfs

    buf = io.BytesIO()
    write_busybox_rootfs(buf)
    repo, _, name = tag.partition(":")
    status, body = d.request(
        "POST",
        f"/images/create?fromSrc=-&repo={repo}&tag={name}",
        buf.getvalue(),
        {"Content-Type": "application/x-tar"},
    )
    assert status == 200, body
    return body.decode()


def remove_all_containers(d: Daemon) -> None:
    import json

    status, body = d.request("GET", "/containers/json?all=1")
    if status != 200:
        return
    for c in json.loads(body):
        d.request("DELETE", f"/containers/{c['Id']}?force=1")


def mounts_under(path: Path) -> list[str]:
    prefix = str(path)
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(prefix)]


def daemon_cgroups(root: Path) -> list[Path]:
    """The cgroup directories of the daemon whose data root is `root/data`."""
    instance = hashlib.sha256(str((root / "data").resolve()).encode()).hexdigest()[:8]
    return [p for p in Path("/sys/fs/cgroup").glob(f"*/dockwright-{instance}") if p.is_dir()]


def conmon_pids_under(path: Path) -> list[int]:
    """conmon processes whose command line names a path under `path` (ours only)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"conmon") and any(str(path).encode() in a for a in cmd):
            pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def daemon():
    if os.geteuid() != 0:
        pytest.fail("integration tests need root")
    root = Path(tempfile.mkdtemp(prefix="dwt-", dir="/tmp"))
    d = start_daemon(root)
    try:
        bootstrap_busybox(d)
        yield d
    finally:
        try:
            remove_all_containers(d)
        finally:
            stop_daemon(d)
            leaked = mounts_under(root)
            monitors = conmon_pids_under(root)
            cgroups = daemon_cgroups(root)
            for pid in monitors:
                os.kill(pid, signal.SIGKILL)
            for m in reversed(leaked):
                subprocess.run(["umount", "-l", m], check=False)
            for cg in cgroups:  # container processes whose monitor died: ours by their cgroup
                for procs in cg.rglob("cgroup.procs"):
                    for pid in procs.read_text().split():
                        os.kill(int(pid), signal.SIGKILL)
            time.sleep(0.2)
            for cg in cgroups:
                for sub in sorted((p for p in cg.rglob("*") if p.is_dir()), reverse=True):
                    sub.rmdir()
                cg.rmdir()
            shutil.rmtree(root, ignore_errors=True)
            if leaked or monitors or cgroups:
                print("leaked:", leaked, monitors, cgroups, file=sys.stderr)
            assert not leaked, f"mounts left behind: {leaked}"
            assert not monitors, f"conmon processes left behind: {monitors}"
            assert not cgroups, f"cgroups left behind: {cgroups}"
