"""Exec sessions through conmon: output, exit codes, stdin, tty, detach, failures."""

from __future__ import annotations

import signal
from typing import Any

import pytest
from rt_sandbox import CRUN, RUNC, Sandbox, run

from dockwright.runtime import ConmonRuntime, ExecSession
from dockwright.runtime.direct_exec import DirectExec

pytestmark = pytest.mark.integration


def process(spec: dict[str, Any], *args: str) -> dict[str, Any]:
    return {**spec["process"], "args": list(args)}


async def output(session: ExecSession) -> dict[int, bytes]:
    got: dict[int, bytes] = {1: b"", 2: b""}
    while True:
        stream, data = await session.read()
        if stream == 0:
            return got
        got[stream] += data


async def sleeping(sandbox: Sandbox, rt: ConmonRuntime) -> tuple[str, dict[str, Any]]:
    cid = sandbox.new_id()
    spec = sandbox.spec(cid, "sleep", "1000")
    await sandbox.create(rt, cid, spec)
    await rt.start(cid)
    return cid, spec


@pytest.mark.parametrize("runtime_path", [CRUN, RUNC])
def test_exec_output_and_exit_code(sandbox: Sandbox, runtime_path: str) -> None:
    rt = sandbox.runtime(runtime_path)

    async def scenario() -> None:
        cid, spec = await sleeping(sandbox, rt)
        s = await rt.exec(
            cid,
            process(spec, "sh", "-c", "echo hi; echo oops >&2; exit 5"),
            tty=False,
            stdin=False,
            detach=False,
        )
        assert s.pid > 0
        assert await output(s) == {1: b"hi\n", 2: b"oops\n"}
        assert await s.wait() == 5
        await s.close()
        assert isinstance(s, DirectExec) and not s.spec_file.exists()
        s = await rt.exec(cid, process(spec, "echo", "again"), tty=False, stdin=False, detach=False)
        assert (await output(s))[1] == b"again\n" and await s.wait() == 0
        await s.close()
        await rt.kill(cid, signal.SIGKILL)
        assert (await rt.wait_exit(cid)).code == 137

    run(scenario())


def test_exec_stdin_and_tty(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> None:
        cid, spec = await sleeping(sandbox, rt)
        s = await rt.exec(cid, process(spec, "cat"), tty=False, stdin=True, detach=False)
        await s.write(b"ping\n")
        await s.close_stdin()
        assert (await output(s))[1] == b"ping\n" and await s.wait() == 0
        await s.close()
        t = await rt.exec(
            cid, process(spec, "sh", "-c", "tty; stty size"), tty=True, stdin=True, detach=False
        )
        await t.resize(33, 99)
        out = (await output(t))[1]
        assert out.startswith(b"/dev/pts/") and await t.wait() == 0
        await t.close()

    run(scenario())


def test_detached_exec_runs_to_completion(sandbox: Sandbox) -> None:
    rt = sandbox.runtime()

    async def scenario() -> None:
        cid, spec = await sleeping(sandbox, rt)
        s = await rt.exec(
            cid, process(spec, "sh", "-c", "echo lost; exit 9"), tty=False, stdin=False, detach=True
        )
        assert s.stdio is None and await s.read() == (0, b"")
        assert await s.wait() == 9
        await s.close()

    run(scenario())


@pytest.mark.parametrize("runtime_path", [CRUN, RUNC])
def test_exec_of_a_missing_command(sandbox: Sandbox, runtime_path: str) -> None:
    """Attached non-TTY execs run the OCI runtime directly, so its complaint arrives on stderr
    with a non-zero exit code (the engine checks the executable before it gets that far)."""
    rt = sandbox.runtime(runtime_path)

    async def scenario() -> None:
        cid, spec = await sleeping(sandbox, rt)
        direct = await rt.exec(
            cid, process(spec, "nosuchcmd"), tty=False, stdin=False, detach=False
        )
        err = b""
        while (chunk := await direct.read()) != (0, b""):
            err += chunk[1]
        assert await direct.wait() != 0 and b"not found" in err.lower()
        await direct.close()
        assert not (sandbox.bundle(cid) / "exec").exists() or not any(
            (sandbox.bundle(cid) / "exec").iterdir()
        )

    run(scenario())
