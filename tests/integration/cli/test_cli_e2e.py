"""The same scenarios through the real `docker` CLI and `dockwright` against one dockwrightd.

Each scenario runs once per CLI (same container names, cleaned up in between) and the two
transcripts must match after masking ids, times and program names.
"""

from __future__ import annotations

import io
import os
import pty
import select
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_e2e import Result, docker, dockwright

pytestmark = pytest.mark.integration

Cli = Callable[..., Result]


def both(daemon, scenario: Callable[[Cli], list[Result]]) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    """Run `scenario` with each CLI; assert equal masked transcripts; return ours."""
    ours = scenario(lambda *a, **kw: dockwright(daemon.host, *a, **kw))
    theirs = scenario(lambda *a, **kw: docker(daemon.host, *a, **kw))
    got = [r.masked() for r in ours]
    want = [r.masked() for r in theirs]
    if os.environ.get("SHOW"):
        print(*got, sep="\n")
    assert got == want
    return got


def test_run_output_and_exit_codes(daemon) -> None:  # type: ignore[no-untyped-def]
    def scenario(cli: Cli) -> list[Result]:
        return [
            cli("run", "--rm", "busybox", "echo", "hi"),
            cli("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"),
            cli(
                "run",
                "--rm",
                "-e",
                "A=1",
                "-w",
                "/tmp",
                "-u",
                "nobody",
                "busybox",
                "sh",
                "-c",
                "echo $A $(pwd) $(id -u)",
            ),
            cli("run", "--rm", "--entrypoint", "echo", "busybox", "via", "entrypoint"),
        ]

    got = both(daemon, scenario)
    assert got[0] == (0, "hi\n", "")
    assert got[1] == (3, "out\n", "err\n")
    assert got[2][1] == "1 /tmp 65534\n"


def test_run_failures(daemon) -> None:  # type: ignore[no-untyped-def]
    def scenario(cli: Cli) -> list[Result]:
        out = [
            cli("run", "--name", "fail127", "busybox", "nosuchcmd"),
            cli("run", "--foo", "busybox"),
            cli("run", "--name", "fail127", "busybox", "true"),
            cli("run", "nosuchimage:1"),
        ]
        cli("rm", "-f", "fail127")
        return out

    got = both(daemon, scenario)
    assert got[0][0] == 127
    assert got[1][0] == 125


def test_detached_lifecycle(daemon) -> None:  # type: ignore[no-untyped-def]
    script = 'trap "exit 0" TERM; echo started; while true; do sleep 0.1; done'

    def scenario(cli: Cli) -> list[Result]:
        run = cli("run", "-d", "--name", "life", "-l", "app=web", "busybox", "sh", "-c", script)
        time.sleep(0.4)
        out = [
            run,
            cli("logs", "life"),
            cli("exec", "life", "echo", "inside"),
            cli("exec", "-e", "X=y", "-w", "/etc", "life", "sh", "-c", "echo $X $(pwd); exit 7"),
            cli("ps", "--format", '{{.Names}}|{{.Image}}|{{.Command}}|{{.Label "app"}}|{{.State}}'),
            cli("ps", "-a", "--filter", "name=life"),
            cli("inspect", "-f", "{{.Name}} {{.State.Status}} {{.Config.Labels}}", "life"),
            cli("container", "inspect", "--format", "{{json .Config.Cmd}}", "life"),
            cli("pause", "life"),
            cli("inspect", "-f", "{{.State.Status}}", "life"),
            cli("unpause", "life"),
            cli("rename", "life", "life2"),
            cli("stop", "life2"),
            cli("wait", "life2"),
            cli("ps", "-a", "--format", "{{.Names}} {{.Status}}"),
            cli("start", "life2"),
            cli("kill", "-s", "KILL", "life2"),
            cli("wait", "life2"),
            cli("rm", "life2"),
            cli("ps", "-aq"),
        ]
        return out

    got = both(daemon, scenario)
    assert got[1][1] == "started\n"
    assert got[3][0] == 7 and got[3][1] == "y /etc\n"
    assert got[13][1] == "0\n"
    assert got[17][1] == "137\n"


def test_missing_objects(daemon) -> None:  # type: ignore[no-untyped-def]
    def scenario(cli: Cli) -> list[Result]:
        return [
            cli("rm", "nosuch"),
            cli("stop", "nosuch"),
            cli("start", "nosuch"),
            cli("logs", "nosuch"),
            cli("container", "inspect", "nosuch"),
            cli("image", "inspect", "nosuch"),
            cli("exec", "nosuch", "true"),
            cli("rmi", "nosuch"),
        ]

    got = both(daemon, scenario)
    assert all(status == 1 for status, _, _ in got)


def _rows_sorted(r: Result) -> Result:
    """docker lists the tags of one image in Go map order (random): compare rows as a set."""
    head, *rows = r.out.splitlines(keepends=True) or [""]
    if not head.startswith("REPOSITORY"):
        return Result(r.status, "".join(sorted([head, *rows])), r.err)
    return Result(r.status, head + "".join(sorted(rows)), r.err)


def test_images_and_history(daemon) -> None:  # type: ignore[no-untyped-def]
    def scenario(cli: Cli) -> list[Result]:
        out = [
            cli("tag", "busybox", "bb:e2e"),
            _rows_sorted(cli("images")),
            cli("images", "-q"),
            _rows_sorted(cli("images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}")),
            cli("image", "inspect", "-f", "{{.RepoTags}} {{.Os}}", "bb:e2e"),
            cli("history", "bb:e2e"),
            cli("rmi", "bb:e2e"),
        ]
        return out

    both(daemon, scenario)


def test_cp_both_ways(daemon, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "src"
    src.mkdir()
    (src / "file.txt").write_text("payload\n")

    def scenario(cli: Cli) -> list[Result]:
        out_dir = tmp_path / "out"
        out_dir.mkdir()
        cli("run", "-d", "--name", "cpbox", "busybox", "sleep", "60")
        results = [
            cli("cp", str(src / "file.txt"), "cpbox:/tmp/in.txt"),
            cli("cp", str(src), "cpbox:/tmp/"),
            cli("exec", "cpbox", "sh", "-c", "cat /tmp/in.txt /tmp/src/file.txt"),
            cli("cp", "cpbox:/etc/passwd", str(out_dir / "passwd")),
            cli("cp", "cpbox:/tmp/src", str(out_dir)),
        ]
        listing = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*"))
        passwd = (out_dir / "passwd").read_text()
        results.append(Result(0, "\n".join(listing) + "\n" + passwd, ""))
        cli("rm", "-f", "cpbox")
        for p in sorted(out_dir.rglob("*"), reverse=True):
            p.unlink() if not p.is_dir() else p.rmdir()
        out_dir.rmdir()
        return results

    got = both(daemon, scenario)
    assert got[2][1] == "payload\npayload\n"
    assert got[5][1].startswith("passwd\nsrc\nsrc/file.txt\nroot:x:0:0:")


def test_export_is_a_tar_of_the_rootfs(daemon) -> None:  # type: ignore[no-untyped-def]
    dockwright(daemon.host, "create", "--name", "exp", "busybox", "true")
    try:
        proc_out = _binary_stdout(daemon.host, "export", "exp")
    finally:
        dockwright(daemon.host, "rm", "exp")
    with tarfile.open(fileobj=io.BytesIO(proc_out)) as tar:
        names = tar.getnames()
    assert "bin/busybox" in names and "etc/passwd" in names


def _binary_stdout(host: str, *args: str) -> bytes:
    import subprocess

    from cli_e2e import DOCKWRIGHT

    env = {**os.environ, "DOCKER_HOST": host}
    return subprocess.run(
        [DOCKWRIGHT, *args], capture_output=True, env=env, timeout=60, check=True
    ).stdout


def test_stdin_is_forwarded_and_closed(daemon) -> None:  # type: ignore[no-untyped-def]
    r = dockwright(
        daemon.host,
        "run",
        "-i",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "cat; echo done",
        stdin="line1\nline2\n",
    )
    assert (r.status, r.out) == (0, "line1\nline2\ndone\n")


def test_interactive_tty_under_a_pty(daemon) -> None:  # type: ignore[no-untyped-def]
    """`run -it` in a pseudo-terminal: a shell prompt, typed commands, exit code."""
    from cli_e2e import DOCKWRIGHT

    env = {**os.environ, "DOCKER_HOST": daemon.host}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(DOCKWRIGHT, [DOCKWRIGHT, "run", "-it", "--rm", "busybox", "sh"], env)
    try:
        assert b"# " in _read_until(fd, b"# ")
        os.write(fd, b"echo $((6*7)); tty\r")
        out = _read_until(fd, b"/dev/pts")
        assert b"42\r\n" in out and b"/dev/pts/" in out
        os.write(fd, b"exit 5\r")
        _read_until(fd, b"\x00", 3)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 5


def test_detach_keys_leave_the_container_running(daemon) -> None:  # type: ignore[no-untyped-def]
    from cli_e2e import DOCKWRIGHT

    env = {**os.environ, "DOCKER_HOST": daemon.host}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(
            DOCKWRIGHT, [DOCKWRIGHT, "run", "-it", "--name", "detachme", "busybox", "sh"], env
        )
    try:
        _read_until(fd, b"# ")
        os.write(fd, b"\x10\x11")
        _read_until(fd, b"\x00", 3)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    try:
        assert os.waitstatus_to_exitcode(status) == 0
        state = dockwright(daemon.host, "inspect", "-f", "{{.State.Running}}", "detachme")
        assert state.out == "true\n"
    finally:
        dockwright(daemon.host, "rm", "-f", "detachme")


def _read_until(fd: int, token: bytes, timeout: float = 10) -> bytes:
    buf = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end and token not in buf:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        buf += data
    return buf


def test_version_and_info(daemon) -> None:  # type: ignore[no-untyped-def]
    r = dockwright(daemon.host, "version", "--format", "{{.Server.ApiVersion}}")
    assert (r.status, r.out) == (0, "1.45\n")
    r = dockwright(daemon.host, "info", "--format", "{{.OSType}}")
    assert (r.status, r.out) == (0, "linux\n")
    theirs = docker(daemon.host, "info", "--format", "{{.Containers}} {{.Images}}")
    ours = dockwright(daemon.host, "info", "--format", "{{.Containers}} {{.Images}}")
    assert ours.masked() == theirs.masked()


def test_inspection_commands(daemon) -> None:  # type: ignore[no-untyped-def]
    """top, diff, stats, logs -t, port and raw inspect print exactly what docker prints."""
    script = "touch /tmp/new; rm /etc/group; echo ready; sleep 300"
    dockwright(daemon.host, "run", "-d", "--name", "looker", "busybox", "sh", "-c", script)
    try:
        time.sleep(0.5)
        for args in (
            ("top", "looker"),
            ("top", "looker", "-o", "pid,comm"),
            ("diff", "looker"),
            ("port", "looker"),
            ("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "looker"),
            ("logs", "-t", "looker"),
            ("inspect", "looker"),
            ("inspect", "-f", "{{json .State}} {{json .Config}}", "looker"),
        ):
            ours, theirs = dockwright(daemon.host, *args), docker(daemon.host, *args)
            assert (ours.status, ours.out, ours.err) == (theirs.status, theirs.out, theirs.err), (
                args
            )
        assert (
            dockwright(daemon.host, "diff", "looker").out
            == "C /etc\nD /etc/group\nC /tmp\nA /tmp/new\n"
        )
    finally:
        dockwright(daemon.host, "rm", "-f", "looker")


def test_events_between_two_times(daemon) -> None:  # type: ignore[no-untyped-def]
    since = str(int(time.time()) - 1)
    dockwright(daemon.host, "run", "--rm", "--name", "evented", "busybox", "true")
    until = str(int(time.time()) + 1)
    args = ("events", "--since", since, "--until", until, "--filter", "container=evented")
    ours, theirs = dockwright(daemon.host, *args), docker(daemon.host, *args)
    assert (ours.status, ours.out) == (theirs.status, theirs.out)
    actions = [line.split()[2] for line in ours.out.splitlines()]
    assert actions[0] == "create" and "start" in actions and actions[-1] == "destroy"
    fmt = ("--format", "{{json .}}")
    assert dockwright(daemon.host, *args, *fmt).out == docker(daemon.host, *args, *fmt).out


def test_signals_are_proxied_to_the_container(daemon) -> None:  # type: ignore[no-untyped-def]
    import signal
    import subprocess

    from cli_e2e import DOCKWRIGHT

    script = 'trap "echo got TERM; exit 12" TERM; echo ready; while true; do sleep 0.1; done'
    env = {**os.environ, "DOCKER_HOST": daemon.host}
    proc = subprocess.Popen(
        [DOCKWRIGHT, "run", "--rm", "busybox", "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (proc.returncode, out, err) == (12, "got TERM\n", "")


def test_terminal_size_follows_sigwinch(daemon) -> None:  # type: ignore[no-untyped-def]
    import fcntl
    import signal
    import struct
    import termios

    from cli_e2e import DOCKWRIGHT

    env = {**os.environ, "DOCKER_HOST": daemon.host}
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        os.execve(DOCKWRIGHT, [DOCKWRIGHT, "run", "-it", "--rm", "busybox", "sh"], env)
    try:
        _read_until(fd, b"# ")
        os.write(fd, b"stty size\r")
        assert b"30 100" in _read_until(fd, b"30 100")
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        time.sleep(0.5)
        os.write(fd, b"stty size\r")
        assert b"40 120" in _read_until(fd, b"40 120")
        os.write(fd, b"exit 3\r")
        _read_until(fd, b"\x00", 3)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 3


def test_networks(daemon) -> None:  # type: ignore[no-untyped-def]
    def scenario(cli: Cli) -> list[Result]:
        return [
            cli("network", "create", "--subnet", "10.77.0.0/24", "--label", "a=b", "clinet"),
            cli("network", "ls"),
            cli("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}}"),
            cli(
                "network",
                "inspect",
                "-f",
                "{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}}",
                "clinet",
            ),
            cli("network", "rm", "clinet"),
            cli("network", "rm", "nosuchnet"),
            cli("network", "inspect", "-f", "{{.Name}}", "nosuchnet"),
        ]

    got = both(daemon, scenario)
    assert got[3][1] == "clinet 10.77.0.0/24\n"
    assert got[5][0] == 1
