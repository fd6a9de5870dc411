"""The pure parts of the conmon driver: argv, runtime error reading, monitor files, pipes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from dockwright.errors import InvalidParameter
from dockwright.runtime.conmon_args import ConmonCommon, create_args, exec_args
from dockwright.runtime.errors import (
    RuntimeCommandError,
    classify_start_error,
    clean_runtime_message,
    start_error,
)
from dockwright.runtime.monitor import is_conmon_for, lost_exit, read_exit, read_pid
from dockwright.runtime.ocicli import is_missing_container
from dockwright.runtime.pipes import MessagePipe

pytestmark = pytest.mark.unit

COMMON = ConmonCommon("/usr/bin/conmon", "/usr/bin/crun", Path("/run/dw/runtimes/crun"))
RUNC_NOT_FOUND = (
    'time="2026-01-01T00:00:00Z" level=error msg="runc create failed: unable to start container process: '
    'exec: \\"nosuchcmd\\": executable file not found in $PATH"\n'
)


def test_create_args() -> None:
    argv = create_args(
        COMMON,
        "c1",
        Path("/b"),
        Path("/b/log"),
        Path("/run/dw/exits"),
        tty=False,
        stdin=True,
        stdin_once=False,
    )
    assert argv[:3] == ["/usr/bin/conmon", "--api-version", "1"]
    pairs = dict(zip(argv[1::1], argv[2::1], strict=False))
    assert pairs["-c"] == "c1" and pairs["-u"] == "c1" and pairs["-r"] == "/usr/bin/crun"
    assert (
        pairs["-b"] == "/b"
        and pairs["-p"] == "/b/pid"
        and pairs["--conmon-pidfile"] == "/b/conmon.pid"
    )
    assert pairs["-l"] == "k8s-file:/b/log" and pairs["--exit-dir"] == "/run/dw/exits"
    assert pairs["--runtime-arg"] == "--root=/run/dw/runtimes/crun"
    assert (
        "--full-attach" in argv
        and "-i" in argv
        and "--leave-stdin-open" in argv
        and "-t" not in argv
    )
    once = create_args(
        COMMON, "c1", Path("/b"), Path("/b/log"), Path("/e"), tty=True, stdin=True, stdin_once=True
    )
    assert "-t" in once and "--leave-stdin-open" not in once
    with pytest.raises(InvalidParameter, match="must not contain ':'"):
        create_args(
            COMMON,
            "c1",
            Path("/b"),
            Path("/b/a:b"),
            Path("/e"),
            tty=False,
            stdin=False,
            stdin_once=False,
        )


def test_exec_args() -> None:
    argv = exec_args(COMMON, "c1", "e1", Path("/b/exec/e1"), tty=True, stdin=False, attach=True)
    pairs = dict(zip(argv, argv[1:], strict=False))
    assert pairs["-c"] == "c1" and pairs["-u"] == "e1" and pairs["-b"] == "/b/exec/e1"
    assert pairs["-l"] == "none" and pairs["--exit-dir"] == "/b/exec/e1/exit"
    assert pairs["--exec-process-spec"] == "/b/exec/e1/process.json"
    assert "-e" in argv and "--exec-attach" in argv and "-t" in argv
    detached = exec_args(COMMON, "c1", "e1", Path("/x"), tty=False, stdin=False, attach=False)
    assert "--exec-attach" not in detached


def test_runtime_messages_are_cleaned() -> None:
    assert clean_runtime_message(RUNC_NOT_FOUND) == (
        'runc create failed: unable to start container process: exec: "nosuchcmd": '
        "executable file not found in $PATH"
    )
    assert (
        clean_runtime_message("crun: open executable: Permission denied\n")
        == "open executable: Permission denied"
    )
    assert clean_runtime_message(
        "warning\nexecutable file `x` not found in $PATH: No such file or directory"
    ) == ("executable file `x` not found in $PATH: No such file or directory")


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ('exec: "x": executable file not found in $PATH', "not_found"),
        ("executable file `x` not found in $PATH: No such file or directory", "not_found"),
        ('exec: "/nope": stat /nope: no such file or directory', "not_found"),
        ('exec: "/etc/passwd": permission denied', "permission_denied"),
        ("open executable: Operation not permitted", "permission_denied"),
        ("exec format error", "permission_denied"),
        ("cgroup: something else", "other"),
    ],
)
def test_start_errors_are_classified_like_docker(message: str, kind: str) -> None:
    assert classify_start_error(message) == kind


def test_start_error_texts_and_exit_codes() -> None:
    err = start_error(RUNC_NOT_FOUND)
    assert err.kind == "not_found" and err.exit_code == 127
    assert err.message == (
        "failed to create task for container: failed to create shim task: OCI runtime create failed: "
        'runc create failed: unable to start container process: exec: "nosuchcmd": '
        "executable file not found in $PATH: unknown"
    )
    exec_err = start_error("open executable: Permission denied", "exec")
    assert exec_err.exit_code == 126
    assert (
        exec_err.message == "OCI runtime exec failed: open executable: Permission denied: unknown"
    )
    assert start_error("boom").exit_code == 128


def test_missing_container_messages() -> None:
    assert is_missing_container('container "x" does not exist')
    assert is_missing_container("error opening file `/run/x/status`: No such file or directory")
    assert not is_missing_container("container is running: cannot delete")


@pytest.mark.parametrize(
    ("message", "missing", "not_running"),
    [
        ("crun kill: open pidfd: No such process", False, True),
        ("crun start: container `x` is not running", False, True),
        ("runc start: cannot start a container that has stopped", False, True),
        ("runc resume: container not paused", False, True),
        ("runc kill: container does not exist", True, False),
        ("crun kill: error opening file `/r/x/status`: No such file or directory", True, False),
        ("crun delete: cgroup busy", False, False),
    ],
)
def test_runtime_refusals_are_recognised(message: str, missing: bool, not_running: bool) -> None:
    err = RuntimeCommandError(message)
    assert (err.missing, err.not_running) == (missing, not_running)


def test_monitor_files(tmp_path: Path) -> None:
    (tmp_path / "pid").write_text("1234")
    (tmp_path / "bad").write_text("-5")
    assert read_pid(tmp_path / "pid") == 1234 and read_pid(tmp_path / "bad") is None
    assert read_pid(tmp_path / "missing") is None
    exit_file = tmp_path / "exit"
    assert read_exit(exit_file, tmp_path) is None
    exit_file.write_text("137")
    status = read_exit(exit_file, tmp_path)
    assert (
        status is not None and status.code == 137 and not status.oom_killed and status.exited_at > 0
    )
    (tmp_path / "oom").touch()
    status = read_exit(exit_file, tmp_path)
    assert status is not None and status.oom_killed
    assert lost_exit().code == 255 and lost_exit().error


def test_conmon_identity_by_command_line() -> None:
    cmd = ["/usr/bin/conmon", "--api-version", "1", "-c", "cid", "-u", "cid", "-r", "/usr/bin/crun"]
    assert is_conmon_for(cmd, "cid")
    assert not is_conmon_for(cmd, "other")
    assert not is_conmon_for(["/bin/sleep", "-u", "cid"], "cid")
    assert not is_conmon_for([], "cid")


def test_message_pipe_reads_lines_then_none() -> None:
    async def scenario() -> list[object]:
        r, w = os.pipe()
        pipe = MessagePipe(r)
        os.write(w, b'{"data": 42}\n{"data": -1, "message": "no\\nway"}\n')
        os.close(w)
        got = [await pipe.message(), await pipe.message(), await pipe.message()]
        pipe.close()
        return got

    assert asyncio.run(scenario()) == [{"data": 42}, {"data": -1, "message": "no\nway"}, None]
