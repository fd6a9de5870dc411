"""Containers on real crun/runc and conmon: exit codes, logs, signals, stdio, resources."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from rt_sandbox import CRUN, RUNC, Sandbox, run

from dockwright.errors import NotFound, SystemError_
from dockwright.kernel.cgroup_stats import read_stats
from dockwright.kernel.cgroups import cgroup_dirs, cgroup_pids
from dockwright.runtime import (
    AttachSession,
    ConmonRuntime,
    ResourceLimits,
    RuntimeCommandError,
    StartError,
    follow_log,
)

pytestmark = pytest.mark.integration


async def drain(stdio: AttachSession) -> list[tuple[int, bytes]]:
    chunks = []
    while True:
        stream, data = await stdio.read()
        if stream == 0:
            return chunks
        chunks.append((stream, data))


def joined(chunks: list[tuple[int, bytes]], stream: int) -> bytes:
    return b"".join(d for s, d in chunks if s == stream)


@pytest.mark.parametrize("runtime_path", [CRUN, RUNC])
def test_exit_code_and_log_file(sandbox: Sandbox, runtime_path: str) -> None:
    rt = sandbox.runtime(runtime_path)

    async def scenario() -> None:
        cid, pid = await sandbox.run(rt, "sh", "-c", "echo to-out; echo to-err >&2; exit 3")
        assert pid > 0
        status = await rt.wait_exit(cid)
        assert (status.code, status.oom_killed, status.error) == (3, False, "")
        lines = sandbox.log_lines(cid)
        assert [line.split(" ", 1)[1] for line in lines] == ["stdout F to-out", "stderr F to-err"]
        assert await rt.state(cid) == "stopped"
        await rt.delete(cid)
        assert await rt.state(cid) is None
        assert (await rt.wait_exit(cid)).code == 3  # remembered by the process that deleted it
        with pytest.raises(NotFound):
            await sandbox.runtime(runtime_path).wait_exit(cid)
        await rt.delete(cid)  # idempotent

    run(scenario())
    assert not any(d.exists() for d in cgroup_dirs(f"{sandbox.cgroup_parent}/x"))


def test_sigkill_gives_137_and_nothing_is_left(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> str:
        cid, _ = await sandbox.run(rt, "sleep", "1000")
        assert await rt.state(cid) == "running"
        await rt.kill(cid, signal.SIGKILL)
        assert (await rt.wait_exit(cid)).code == 137
        await rt.delete(cid)
        return cid

    cid = run(scenario())
    bundle = sandbox.bundle(cid)
    assert sorted(p.name for p in bundle.iterdir()) == ["config.json", "log"]
    assert not any(d.exists() for d in cgroup_dirs(f"{sandbox.cgroup_parent}/{cid}"))
    assert not (sandbox.root / "state/exits" / cid).exists()


def test_force_delete_of_a_running_container_while_waiting(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> None:
        cid, _ = await sandbox.run(rt, "sleep", "1000")
        waiter = asyncio.create_task(rt.wait_exit(cid))
        await asyncio.sleep(0.05)
        await rt.delete(cid, force=True)
        assert (await waiter).code == 137
        assert (await rt.wait_exit(cid)).code == 137
        with pytest.raises(RuntimeCommandError) as info:
            await rt.kill(cid, signal.SIGKILL)
        assert info.value.missing

    run(scenario())


def test_operations_on_a_stopped_container_say_not_running(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> None:
        cid, _ = await sandbox.run(rt, "true")
        await rt.wait_exit(cid)
        for op in (rt.kill(cid, signal.SIGKILL), rt.pause(cid), rt.start(cid)):
            with pytest.raises(RuntimeCommandError) as info:
                await op
            assert info.value.not_running, info.value.message

    run(scenario())


def test_attach_streams_stdout_and_stderr_apart(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> list[tuple[int, bytes]]:
        cid = sandbox.new_id()
        await sandbox.create(
            rt, cid, sandbox.spec(cid, "sh", "-c", "echo one; echo two >&2; echo three")
        )
        stdio = await rt.attach(cid)  # between create and start: nothing can be missed
        await rt.start(cid)
        chunks = await drain(stdio)
        await stdio.close()
        assert (await rt.wait_exit(cid)).code == 0
        return chunks

    chunks = run(scenario())
    assert joined(chunks, 1) == b"one\nthree\n"
    assert joined(chunks, 2) == b"two\n"


def test_stdin_round_trip_through_cat(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> bytes:
        cid = sandbox.new_id()
        await sandbox.create(rt, cid, sandbox.spec(cid, "cat"), stdin=True, stdin_once=True)
        stdio = await rt.attach(cid)
        await rt.start(cid)
        payload = b"".join(b"line %d\n" % i for i in range(2000))  # several conmon packets
        await stdio.write(payload)
        await stdio.close_stdin()
        chunks = await drain(stdio)
        await stdio.close()
        assert (await rt.wait_exit(cid)).code == 0
        assert joined(chunks, 1) == payload
        return payload

    run(scenario())


def test_stdin_stays_open_between_attaches_without_stdin_once(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> None:
        cid = sandbox.new_id()
        await sandbox.create(rt, cid, sandbox.spec(cid, "cat"), stdin=True, stdin_once=False)
        await rt.start(cid)
        for word in (b"first\n", b"second\n"):
            stdio = await rt.attach(cid)
            await stdio.write(word)
            assert await stdio.read() == (1, word)
            await stdio.close_stdin()
            await stdio.close()
        assert await rt.state(cid) == "running"
        await rt.kill(cid, signal.SIGKILL)
        assert (await rt.wait_exit(cid)).code == 137

    run(scenario())


def test_tty_mode_with_resize(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> bytes:
        cid = sandbox.new_id()
        spec = sandbox.spec(
            cid, "sh", "-c", "tty; read x; stty size", tty=True, console_size=(30, 100)
        )
        await sandbox.create(rt, cid, spec, tty=True, stdin=True, stdin_once=True)
        stdio = await rt.attach(cid)
        await rt.start(cid)
        first = b""
        while b"/dev/pts/" not in first:
            first += (await stdio.read())[1]
        await rt.resize(cid, 40, 120)
        await asyncio.sleep(0.1)  # conmon applies the size asynchronously through its fifo
        await stdio.write(b"go\n")
        rest = b"".join(d for _, d in await drain(stdio))
        await stdio.close()
        assert (await rt.wait_exit(cid)).code == 0
        return first + rest

    out = run(scenario())
    assert b"/dev/pts/0\r\n" in out
    assert out.endswith(b"40 120\r\n")


def test_pause_and_resume(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> None:
        cid, _ = await sandbox.run(rt, "sleep", "1000")
        await rt.pause(cid)
        assert await rt.state(cid) == "paused"
        assert rt.recover(cid).status == "paused"
        await rt.resume(cid)
        assert await rt.state(cid) == "running"
        await rt.kill(cid, signal.SIGKILL)  # pid 1 without a handler ignores SIGTERM
        assert (await rt.wait_exit(cid)).code == 137

    run(scenario())


@pytest.mark.parametrize("runtime_path", [CRUN, RUNC])
def test_command_not_found_and_not_executable(sandbox: Sandbox, runtime_path: str) -> None:
    rt = sandbox.runtime(runtime_path)

    async def scenario() -> None:
        for args, kind, code in (
            (("nosuchcmd",), "not_found", 127),
            (("/etc/passwd",), "permission_denied", 126),
        ):
            cid = sandbox.new_id()
            with pytest.raises(StartError) as info:
                await sandbox.create(rt, cid, sandbox.spec(cid, *args))
            assert (info.value.kind, info.value.exit_code) == (kind, code)
            assert "OCI runtime create failed" in info.value.message
            await rt.delete(cid, force=True)
            assert await rt.state(cid) is None

    run(scenario())


def test_oom_kill_is_reported(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()
    limits = ResourceLimits(memory=16 << 20, memory_swap=16 << 20)

    async def scenario() -> None:
        fill = "dd if=/dev/zero of=/dev/shm/fill bs=1M count=64"
        cid, _ = await sandbox.run(rt, "sh", "-c", fill, resources=limits, shm_size=128 << 20)
        status = await rt.wait_exit(cid)
        assert (status.code, status.oom_killed) == (137, True)

    run(scenario())


def test_resource_limits_reach_the_cgroup(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()
    limits = ResourceLimits(memory=32 << 20, nano_cpus=500_000_000, cpu_shares=512, pids_limit=50)

    async def scenario() -> None:
        cid, pid = await sandbox.run(rt, "sh", "-c", "sleep 1000", resources=limits)
        path = f"{sandbox.cgroup_parent}/{cid}"
        stats = read_stats(path)
        assert (stats.memory_limit, stats.pids_limit) == (32 << 20, 50)
        assert stats.pids_current >= 1 and stats.memory_usage > 0
        pids = cgroup_pids(path)
        assert pid in pids and len(pids) == stats.pids_current
        cpu_dir = next(d for d in cgroup_dirs(path) if d.parts[4] == "cpu")
        assert (cpu_dir / "cpu.cfs_quota_us").read_text().strip() == "50000"
        assert (cpu_dir / "cpu.shares").read_text().strip() == "512"
        await rt.kill(cid, signal.SIGKILL)
        await rt.wait_exit(cid)

    run(scenario())


def test_follow_log_of_a_running_container(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> list[bytes]:
        cid, _ = await sandbox.run(
            rt, "sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.05; done; printf end"
        )
        exited = asyncio.Event()

        async def watch() -> None:
            await rt.wait_exit(cid)
            exited.set()

        watcher = asyncio.create_task(watch())
        log = sandbox.bundle(cid) / "log"
        got = [r.data async for r in follow_log(Path(log), exited=exited)]
        await watcher
        return got

    assert run(scenario()) == [b"1\n", b"2\n", b"3\n", b"end"]


def test_init_reaps_and_forwards_signals(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> None:
        cid, _ = await sandbox.run(
            rt,
            "sh",
            "-c",
            "ps -o pid,comm | grep -w 1; sleep 1000",
            init_path="/usr/bin/tini-static",
        )
        await asyncio.sleep(0.2)
        await rt.kill(cid, signal.SIGTERM)
        assert (await rt.wait_exit(cid)).code == 143
        assert "docker-init" in " ".join(sandbox.log_lines(cid))

    run(scenario())


def test_broken_installations_fail_with_a_reason(sandbox: Sandbox) -> None:
    async def scenario() -> None:
        cid = sandbox.new_id()
        spec = sandbox.spec(cid, "true")

        async def create(rt: ConmonRuntime) -> None:
            await rt.create(
                cid,
                sandbox.bundle(cid),
                spec,
                tty=False,
                stdin=False,
                stdin_once=False,
                log_path=sandbox.bundle(cid) / "log",
            )

        no_conmon = ConmonRuntime(CRUN, sandbox.root / "state", conmon_path="/nonexistent/conmon")
        with pytest.raises(
            SystemError_, match="cannot run conmon /nonexistent/conmon: no such file"
        ):
            await create(no_conmon)
        no_runtime = ConmonRuntime(
            "/nonexistent/crun", sandbox.root / "state", prepare_cgroups=False
        )
        with pytest.raises(
            SystemError_, match="conmon failed to create container .*nonexistent/crun"
        ):
            await create(no_runtime)
        with pytest.raises(RuntimeCommandError, match="cannot run /nonexistent/crun: no such file"):
            await no_runtime.kill(cid, 9)
        await no_runtime.delete(cid)  # no runtime state left: nothing to run, no error
        await sandbox.runtime().delete(cid)
        assert not (sandbox.root / "state/bundles" / cid).exists()

    run(scenario())
