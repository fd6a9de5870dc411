"""A container on a network runs in a network namespace the daemon made ahead (bind-mounted
under its runtime root, so endpoints are plumbed while the runtime creates the container); the
namespace goes when the container stops, and one left by a container that exited while the
daemon was down goes at the next start."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from tests.integration.conftest import stop_daemon
from tests.integration.network.netdaemon import NetDaemon

pytestmark = pytest.mark.integration


def sandbox_of(net: NetDaemon, cid: str) -> Path:
    return net.root / "run" / "netns" / cid


def docker(net: NetDaemon, *args: str) -> str:
    done = net.d.docker(*args)
    assert done.returncode == 0, done.stderr
    return str(done.stdout).strip()


def inspect(net: NetDaemon, ref: str) -> dict:
    status, body = net.d.request("GET", f"/containers/{ref}/json")
    assert status == 200, body
    return json.loads(body)


def test_running_container_lives_in_its_sandbox_until_it_stops(net: NetDaemon) -> None:
    cid = docker(net, "run", "-d", "busybox", "sleep", "600")
    pid = inspect(net, cid)["State"]["Pid"]
    sandbox = sandbox_of(net, cid)
    assert os.stat(sandbox).st_ino == os.stat(f"/proc/{pid}/ns/net").st_ino
    assert inspect(net, cid)["NetworkSettings"]["SandboxKey"] == str(sandbox)
    assert f" {sandbox} " in Path("/proc/self/mountinfo").read_text()
    docker(net, "stop", "-t", "0", cid)
    assert not sandbox.exists()
    assert inspect(net, cid)["NetworkSettings"]["SandboxKey"] == ""
    assert f" {sandbox} " not in Path("/proc/self/mountinfo").read_text()
    docker(net, "rm", cid)


def test_none_network_gets_no_sandbox(net: NetDaemon) -> None:
    cid = docker(net, "run", "-d", "--network", "none", "busybox", "sleep", "600")
    try:
        assert not sandbox_of(net, cid).exists()
    finally:
        docker(net, "rm", "-f", cid)


def test_sandbox_of_a_container_that_died_while_the_daemon_was_down_goes(net: NetDaemon) -> None:
    cid = docker(net, "run", "-d", "busybox", "sleep", "600")
    pid = inspect(net, cid)["State"]["Pid"]
    net.d.proc.send_signal(signal.SIGKILL)
    net.d.proc.wait()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_daemon(net.d)
    net.start()
    assert not sandbox_of(net, cid).exists()
    assert inspect(net, cid)["State"]["Status"] == "exited"
    docker(net, "rm", cid)
