"""top, diff, export, cp, stats and update through the real docker CLI against dockwrightd."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import tarfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def ok(result, *expect: str) -> str:
    assert result.returncode == 0, result.stderr
    for text in expect:
        assert text in result.stdout, result.stdout
    return result.stdout


def cid(daemon, name: str) -> str:
    return ok(daemon.docker("inspect", "-f", "{{.Id}}", name)).strip()


@pytest.fixture(scope="module")
def bind_dir(daemon):
    path = daemon.root / "bind"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def web(daemon, bind_dir):
    """A running container with a bind mount, a tmpfs and a memory limit."""
    name = "fs-web"
    ok(
        daemon.docker(
            "run", "-d", "--name", name, "-v", f"{bind_dir}:/data", "--tmpfs", "/scratch",
            "--memory", "64m", "busybox", "sleep", "600",
        )
    )  # fmt: skip
    yield name
    daemon.docker("rm", "-f", name)


@pytest.fixture(scope="module")
def done(daemon):
    """An exited container that changed its filesystem."""
    name = "fs-done"
    script = "echo new > /tmp/new; rm /bin/ls; mkdir -p /opt/app; echo hi > /opt/app/f"
    ok(daemon.docker("run", "--name", name, "busybox", "sh", "-c", script))
    yield name
    daemon.docker("rm", "-f", name)


def merged_mounted(daemon, name: str) -> bool:
    prefix = str(daemon.root / "data" / "containers" / cid(daemon, name))
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4].startswith(prefix) for line in f)


def stream_lines(daemon, path: str, count: int) -> list[dict]:
    """The first `count` records of a streaming JSON endpoint, then hang up."""
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(str(daemon.socket))
    conn = http.client.HTTPConnection("localhost")
    conn.sock = sock
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 200
        return [json.loads(resp.readline()) for _ in range(count)]
    finally:
        conn.close()


def test_top(daemon, web):
    out = ok(daemon.docker("top", web), "PID", "sleep 600")
    assert out.splitlines()[0].split()[:3] == ["UID", "PID", "PPID"]
    assert len(out.splitlines()) == 2  # only the container's process, not the host's
    ok(daemon.docker("top", web, "-o", "pid,args"), "COMMAND", "sleep 600")


def test_top_of_a_stopped_container(daemon, done):
    result = daemon.docker("top", done)
    assert result.returncode != 0 and "is not running" in result.stderr


def test_diff(daemon, done):
    out = ok(daemon.docker("diff", done)).splitlines()
    assert out == [
        "C /bin",
        "D /bin/ls",
        "A /opt",
        "A /opt/app",
        "A /opt/app/f",
        "C /tmp",
        "A /tmp/new",
    ]


def test_export_of_a_stopped_container(daemon, done):
    result = daemon.docker("export", done, input=b"")
    assert result.returncode == 0, result.stderr
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as tf:
        names = tf.getnames()
        assert tf.extractfile("tmp/new").read() == b"new\n"  # type: ignore[union-attr]
    assert "bin/busybox" in names and "bin/ls" not in names
    assert not merged_mounted(daemon, done)  # mounted for the export only


def test_cp_from_a_container(daemon, web, tmp_path):
    ok(daemon.docker("cp", f"{web}:/etc/passwd", str(tmp_path / "passwd")))
    assert (tmp_path / "passwd").read_text().startswith("root:")
    ok(daemon.docker("cp", f"{web}:/etc", str(tmp_path / "etc")))
    assert {"passwd", "group", "hostname"} <= set(os.listdir(tmp_path / "etc"))
    ok(daemon.docker("cp", f"{web}:/bin/sh", str(tmp_path / "sh")))
    assert (tmp_path / "sh").is_symlink()
    ok(daemon.docker("cp", "-L", f"{web}:/bin/sh", str(tmp_path / "sh-real")))
    assert (tmp_path / "sh-real").stat().st_size > 100_000
    missing = daemon.docker("cp", f"{web}:/nope", str(tmp_path))
    assert (
        missing.returncode != 0
        and f"Could not find the file /nope in container {web}" in missing.stderr
    )


def test_cp_into_a_running_container(daemon, web, tmp_path):
    (tmp_path / "in.txt").write_text("hello\n")
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "a").write_text("a\n")
    ok(daemon.docker("cp", str(tmp_path / "in.txt"), f"{web}:/tmp/"))
    ok(daemon.docker("cp", str(tmp_path / "tree"), f"{web}:/tmp/tree"))
    ok(daemon.docker("exec", web, "cat", "/tmp/in.txt", "/tmp/tree/sub/a"), "hello", "a")


def test_cp_into_mounts_of_a_running_container(daemon, web, bind_dir, tmp_path):
    (tmp_path / "b.txt").write_text("bound\n")
    ok(daemon.docker("cp", str(tmp_path / "b.txt"), f"{web}:/data/"))
    assert (bind_dir / "b.txt").read_text() == "bound\n"
    ok(daemon.docker("cp", str(tmp_path / "b.txt"), f"{web}:/scratch/"))
    ok(daemon.docker("exec", web, "cat", "/scratch/b.txt"), "bound")
    ok(daemon.docker("cp", f"{web}:/scratch/b.txt", str(tmp_path / "back.txt")))
    assert (tmp_path / "back.txt").read_text() == "bound\n"


def test_cp_into_a_stopped_container(daemon, done, tmp_path):
    (tmp_path / "late.txt").write_text("late\n")
    ok(daemon.docker("cp", str(tmp_path / "late.txt"), f"{done}:/opt/app/"))
    ok(daemon.docker("cp", f"{done}:/opt/app/late.txt", str(tmp_path / "again.txt")))
    assert (tmp_path / "again.txt").read_text() == "late\n"
    assert "A /opt/app/late.txt" in ok(daemon.docker("diff", done))
    assert not merged_mounted(daemon, done)


def hostile_tar(outside: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, target in (
            ("up", "../../../../../../../../.." + str(outside)),
            ("abs", str(outside)),
        ):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, target
            tf.addfile(link)
        for name in ("up/pwn", "abs/pwn", "/" + str(outside / "pwn")):
            info = tarfile.TarInfo(name)
            info.size = 3
            tf.addfile(info, io.BytesIO(b"pwn"))
    return buf.getvalue()


def climbing_tar(outside: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("../../../../../../../.." + str(outside / "pwn"))
        info.size = 3
        tf.addfile(info, io.BytesIO(b"pwn"))
    return buf.getvalue()


@pytest.mark.parametrize("which", ["web", "done"])
def test_hostile_tars_stay_inside(daemon, which, request, tmp_path):
    name = request.getfixturevalue(which)
    outside = tmp_path / "outside"
    outside.mkdir()
    headers = {"Content-Type": "application/x-tar"}
    status, _ = daemon.request(
        "PUT", f"/containers/{name}/archive?path=/tmp", hostile_tar(outside), headers
    )
    assert status == 200
    status, body = daemon.request(
        "PUT", f"/containers/{name}/archive?path=/tmp", climbing_tar(outside), headers
    )
    assert status == 400, body
    assert os.listdir(outside) == []
    status, _ = daemon.request("HEAD", f"/containers/{name}/archive?path={outside}/pwn")
    assert status == 200  # the links were followed inside the container's root


def test_put_archive_errors(daemon, web):
    status, body = daemon.request("PUT", f"/containers/{web}/archive?path=/etc/passwd", b"")
    assert status == 400 and b"not a directory" in body
    status, body = daemon.request("PUT", f"/containers/{web}/archive?path=/missing", b"")
    assert status == 404 and b"Could not find the file /missing" in body


def stats_json(daemon, name: str) -> dict:
    out = ok(daemon.docker("stats", "--no-stream", "--format", "{{json .}}", name))
    return json.loads(out)


def test_stats_no_stream(daemon, web):
    row = stats_json(daemon, web)
    assert row["Name"] == web and row["PIDs"] == "1"
    assert row["MemUsage"].endswith("/ 64MiB")
    assert row["CPUPerc"].endswith("%")


def test_stats_cpu_of_a_busy_container(daemon):
    name = "fs-busy"
    ok(
        daemon.docker(
            "run",
            "-d",
            "--name",
            name,
            "--cpus",
            "0.5",
            "busybox",
            "sh",
            "-c",
            "while :; do :; done",
        )
    )
    try:
        time.sleep(0.5)
        cpu = float(stats_json(daemon, name)["CPUPerc"].rstrip("%"))
        assert 5 < cpu < 80  # busy, but limited to half a CPU
    finally:
        daemon.docker("rm", "-f", name)


def test_stats_stream_one_record_a_second(daemon, web):
    first, second = stream_lines(daemon, f"/containers/{web}/stats", 2)
    assert first["preread"] == "0001-01-01T00:00:00Z"
    assert second["preread"] == first["read"]
    assert (
        second["cpu_stats"]["cpu_usage"]["total_usage"]
        >= first["cpu_stats"]["cpu_usage"]["total_usage"]
    )
    assert first["name"] == f"/{web}" and first["memory_stats"]["limit"] == 64 << 20


def test_stats_of_a_stopped_container(daemon, done):
    status, body = daemon.request("GET", f"/containers/{done}/stats?stream=0")
    doc = json.loads(body)
    assert status == 200 and doc["read"] == "0001-01-01T00:00:00Z" and doc["memory_stats"] == {}


def cgroup_file(daemon, name: str, controller: str, file: str) -> str:
    config = daemon.root / "data" / "containers" / cid(daemon, name) / "config.json"
    cgroups_path = json.loads(config.read_text())["linux"]["cgroupsPath"].strip("/")
    return (Path("/sys/fs/cgroup") / controller / cgroups_path / file).read_text().strip()


@pytest.mark.parametrize("runtime", ["crun", "runc"])
def test_update_a_running_container(daemon, runtime):
    name = f"fs-upd-{runtime}"
    ok(daemon.docker("run", "-d", "--name", name, "--runtime", runtime, "busybox", "sleep", "600"))
    try:
        ok(
            daemon.docker(
                "update",
                "--memory",
                "48m",
                "--memory-swap",
                "96m",
                "--pids-limit",
                "20",
                "--cpu-shares",
                "512",
                name,
            )
        )
        assert cgroup_file(daemon, name, "memory", "memory.limit_in_bytes") == str(48 << 20)
        assert cgroup_file(daemon, name, "pids", "pids.max") == "20"
        assert cgroup_file(daemon, name, "cpu", "cpu.shares") == "512"
        ok(daemon.docker("update", "--cpus", "0.5", name))
        assert cgroup_file(daemon, name, "cpu", "cpu.cfs_quota_us") == "50000"
        assert stats_json(daemon, name)["MemUsage"].endswith("/ 48MiB")
    finally:
        daemon.docker("rm", "-f", name)
