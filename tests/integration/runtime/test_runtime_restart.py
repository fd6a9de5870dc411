"""Containers outlive their daemon: kill the daemon's whole process group, adopt them again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from rt_sandbox import Sandbox, run

from dockwright.kernel.procs import open_pidfd, pid_alive, wait_pidfd
from dockwright.runtime import ConmonRuntime
from dockwright.runtime.monitor import read_pid

pytestmark = pytest.mark.integration
CHILD = Path(__file__).with_name("rt_daemon_child.py")


def start_in_doomed_daemon(sandbox: Sandbox, cid: str, *command: str, stdin: bool = False) -> int:
    """Run the container from a separate process, then SIGKILL that process's whole group."""
    rt = sandbox.runtime()
    sandbox.containers.append((rt, cid))  # cleaned up like any other
    args = [str(sandbox.root / "state"), str(sandbox.bundle(cid)), str(sandbox.rootfs)]
    args += [f"{sandbox.cgroup_parent}/{cid}", cid, "1" if stdin else "0", *command]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, start_new_session=True, env=env
    )
    assert child.stdout is not None
    line = child.stdout.readline().decode()
    assert line.startswith("ready "), line
    os.killpg(child.pid, signal.SIGKILL)
    child.wait(10)
    return int(line.split()[1])


def test_running_container_is_adopted_by_a_new_runtime(sandbox: Sandbox) -> None:
    cid = sandbox.new_id("r")
    pid = start_in_doomed_daemon(
        sandbox, cid, "sh", "-c", "echo before; cat; echo after; exit 6", stdin=True
    )
    conmon = read_pid(sandbox.bundle(cid) / "conmon.pid")
    assert conmon is not None and pid_alive(conmon) and pid_alive(pid)
    assert os.getsid(conmon) == conmon  # its own session: the kill of the daemon group missed it

    rt = ConmonRuntime("/usr/bin/crun", sandbox.root / "state")  # a fresh daemon's view
    state = rt.recover(cid)
    assert (state.status, state.pid, state.conmon_pid) == ("running", pid, conmon)

    async def scenario() -> None:
        spec_process = {
            "args": ["echo", "exec-ok"],
            "cwd": "/",
            "user": {"uid": 0, "gid": 0},
            "env": ["PATH=/bin"],
        }
        session = await rt.exec(cid, spec_process, tty=False, stdin=False, detach=False)
        assert await session.read() == (1, b"exec-ok\n") and await session.wait() == 0
        await session.close()
        stdio = await rt.attach(cid)
        waiter = asyncio.create_task(rt.wait_exit(cid))
        await stdio.write(b"hello again\n")
        await stdio.close_stdin()
        out = b""
        while not out.endswith(b"after\n"):  # cat's echo and "after" may come as one chunk
            kind, data = await stdio.read()
            assert kind == 1 and data, out
            out += data
        assert out == b"hello again\nafter\n"
        await stdio.close()
        status = await waiter
        assert status.code == 6

    run(scenario())
    lines = [line.split(" ", 3)[3] for line in sandbox.log_lines(cid)]
    assert lines == ["before", "hello again", "after"]
    assert rt.recover(cid).status == "exited"


def test_exit_while_the_daemon_was_down_is_recovered(sandbox: Sandbox) -> None:
    cid = sandbox.new_id("d")
    start_in_doomed_daemon(sandbox, cid, "sh", "-c", "sleep 0.2; exit 4")
    conmon = read_pid(sandbox.bundle(cid) / "conmon.pid")
    assert conmon is not None

    async def conmon_gone() -> None:
        fd = open_pidfd(conmon)
        if fd is not None:
            try:
                await wait_pidfd(fd)
            finally:
                os.close(fd)

    run(conmon_gone())
    rt = ConmonRuntime("/usr/bin/crun", sandbox.root / "state")
    state = rt.recover(cid)
    assert state.status == "exited" and state.exit is not None and state.exit.code == 4
    assert run(rt.wait_exit(cid)).code == 4


def test_unknown_container_is_gone(sandbox: Sandbox) -> None:
    assert sandbox.runtime().recover("neverexisted").status == "gone"
