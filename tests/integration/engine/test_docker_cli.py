"""The real docker CLI against dockwrightd: the container scenarios of issue 2."""

from __future__ import annotations

import json
import os
import pty
import select
import time

import pytest

pytestmark = pytest.mark.integration


def test_run_rm_prints_and_leaves_nothing(daemon):
    r = daemon.docker("run", "--rm", "busybox", "echo", "hi")
    assert (r.returncode, r.stdout) == (0, "hi\n"), r.stderr
    assert daemon.docker("ps", "-aq").stdout == ""


def test_exit_codes_and_stream_separation(daemon):
    r = daemon.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")


@pytest.mark.parametrize(
    ("cmd", "code", "text"),
    [
        ("nosuchcmd", 127, "executable file not found in $PATH"),
        ("/etc/passwd", 126, "permission denied"),
    ],
)
def test_start_failures_exit_like_docker(daemon, cmd, code, text):
    r = daemon.docker("run", "--name", f"fail{code}", "busybox", cmd)
    assert r.returncode == code and text in r.stderr
    state = json.loads(daemon.docker("inspect", f"fail{code}").stdout)[0]["State"]
    assert state["ExitCode"] == code and state["Status"] == "created"
    assert "Created" in daemon.docker("ps", "-a", "--filter", f"name=fail{code}").stdout
    assert daemon.docker("rm", f"fail{code}").returncode == 0


def test_detached_logs_exec_stop_rm(daemon):
    script = 'trap "exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done'
    r = daemon.docker("run", "-d", "--name", "ticker", "busybox", "sh", "-c", script)
    assert r.returncode == 0 and len(r.stdout.strip()) == 64
    time.sleep(0.5)
    assert daemon.docker("logs", "ticker").stdout.startswith("tick 0\ntick 1\n")
    assert daemon.docker("exec", "ticker", "echo", "inside").stdout == "inside\n"
    assert daemon.docker("exec", "ticker", "sh", "-c", "exit 7").returncode == 7
    fmt = daemon.docker("ps", "--format", "{{.Names}}|{{.Status}}|{{.Command}}").stdout
    assert fmt.startswith("ticker|Up ") and '"sh -c' in fmt
    assert daemon.docker("stop", "ticker").returncode == 0
    state = json.loads(daemon.docker("inspect", "ticker").stdout)[0]["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 0)
    assert daemon.docker("rm", "ticker").returncode == 0


def test_logs_follow_ends_when_container_exits(daemon):
    daemon.docker(
        "run", "-d", "--name", "shortlived", "busybox", "sh", "-c", "echo a; sleep 1; echo b"
    )
    r = daemon.docker("logs", "-f", "shortlived", timeout=10)
    assert r.stdout == "a\nb\n"
    assert daemon.docker("wait", "shortlived").stdout == "0\n"
    daemon.docker("rm", "shortlived")


def test_stdin_pipe(daemon):
    r = daemon.docker("run", "-i", "--rm", "busybox", "wc", "-l", input=b"a\nb\nc\n")
    assert (r.returncode, r.stdout.strip()) == (0, b"3")


def _run_pty(daemon, args, script, timeout=15):
    env = {**os.environ, "DOCKER_HOST": daemon.host}
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("docker", ["docker", *args], env)
    out, step, deadline = b"", 0, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                out += data
            if step < len(script) and script[step][0] in out:
                os.write(fd, script[step][1])
                step += 1
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return out, os.waitstatus_to_exitcode(status)


def test_interactive_tty_shell(daemon):
    out, code = _run_pty(
        daemon, ["run", "-it", "--rm", "busybox", "sh"], [(b"# ", b"echo $((6*7)); tty; exit 3\r")]
    )
    assert code == 3
    assert b"42\r\n" in out and b"/dev/pts/0" in out


def test_detach_keys_leave_container_running(daemon):
    out, code = _run_pty(
        daemon, ["run", "-it", "--name", "detached", "busybox", "sh"], [(b"# ", b"\x10\x11")]
    )
    assert code == 0
    assert (
        "Up " in daemon.docker("ps", "--filter", "name=detached", "--format", "{{.Status}}").stdout
    )
    assert daemon.docker("rm", "-f", "detached").returncode == 0


def test_pause_rename_kill_wait_and_events(daemon):
    since = str(time.time())
    daemon.docker("run", "-d", "--name", "p1", "busybox", "sleep", "100")
    assert daemon.docker("pause", "p1").returncode == 0
    assert "(Paused)" in daemon.docker("ps", "--format", "{{.Status}}", "-f", "name=p1").stdout
    assert daemon.docker("unpause", "p1").returncode == 0
    assert daemon.docker("rename", "p1", "p2").returncode == 0
    assert daemon.docker("kill", "p2").returncode == 0
    assert daemon.docker("wait", "p2").stdout == "137\n"
    assert daemon.docker("rm", "p2").returncode == 0
    until = str(time.time() + 0.1)
    r = daemon.docker("events", "--since", since, "--until", until, "--format", "{{.Action}}")
    actions = r.stdout.split()
    for action in ("create", "start", "pause", "unpause", "rename", "kill", "die", "destroy"):
        assert action in actions, r.stdout


def test_container_prune_removes_stopped_ones_and_reports_an_event(daemon):
    since = str(time.time())
    daemon.docker("create", "--name", "prune-me", "busybox", "true")
    daemon.docker("run", "-d", "--name", "keep-me", "busybox", "sleep", "100")
    try:
        r = daemon.docker("container", "prune", "-f")
        assert r.returncode == 0 and "Deleted Containers:" in r.stdout, r
        names = daemon.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
        assert "prune-me" not in names and "keep-me" in names
        until = str(time.time() + 0.1)
        r = daemon.docker("events", "--since", since, "--until", until, "--filter",
                          "event=prune", "--format", "{{.Type}} {{.Actor.Attributes}}")  # fmt: skip
        assert r.stdout == "container map[reclaimed:0]\n", r
    finally:
        daemon.docker("rm", "-f", "keep-me")


def test_options_reach_the_container(daemon):
    d = daemon.docker
    assert d("run", "--rm", "--read-only", "busybox", "touch", "/x").returncode == 1
    assert (
        d("run", "--rm", "-v", f"{daemon.root}:/h:ro", "busybox", "ls", "/h").stdout.count("d.sock")
        == 1
    )
    assert "/run" in d("run", "--rm", "--tmpfs", "/run:size=1m", "busybox", "df", "/run").stdout
    limits = d(
        "run",
        "--rm",
        "-m",
        "64m",
        "--pids-limit",
        "50",
        "busybox",
        "cat",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/pids/pids.max",
    ).stdout
    assert limits.split() == ["67108864", "50"]
    assert "docker-init" in d("run", "--rm", "--init", "busybox", "ps").stdout
    assert d("run", "--rm", "-u", "nobody", "busybox", "id", "-u").stdout == "65534\n"
    assert d("run", "--rm", "-w", "/new/dir", "busybox", "pwd").stdout == "/new/dir\n"
    env = d("run", "--rm", "-e", "FOO=bar", "--hostname", "box", "busybox", "env").stdout.split()
    assert "FOO=bar" in env and "HOSTNAME=box" in env and "HOME=/root" in env
    links = d("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link").stdout.splitlines()
    assert len(links) == 1 and links[0].startswith("1: lo:")


def test_ps_filters_and_inspect_format(daemon):
    d = daemon.docker
    d("run", "--name", "f1", "--label", "team=a", "busybox", "true")
    d("run", "--name", "f2", "busybox", "sh", "-c", "exit 4")
    assert d("ps", "-a", "--filter", "label=team=a", "--format", "{{.Names}}").stdout == "f1\n"
    assert d("ps", "-a", "--filter", "exited=4", "--format", "{{.Names}}").stdout == "f2\n"
    assert (
        d("inspect", "-f", "{{.State.Status}} {{.Config.Labels.team}}", "f1").stdout == "exited a\n"
    )
    assert d("rm", "f1", "f2").returncode == 0


def test_exec_failures_and_detached_exec(daemon):
    d = daemon.docker
    d("run", "-d", "--name", "ex", "busybox", "sleep", "60")
    r = d("exec", "ex", "nosuch")
    assert (
        r.returncode == 127
        and 'exec: "nosuch": executable file not found in $PATH' in r.stdout + r.stderr
    )
    r = d("exec", "-u", "nosuchuser", "ex", "true")
    assert r.returncode == 126 and "unable to find user nosuchuser" in r.stdout + r.stderr
    assert d("exec", "-d", "ex", "sleep", "5").returncode == 0
    assert len(d("inspect", "-f", "{{json .ExecIDs}}", "ex").stdout.strip().split(",")) == 1
    assert d("rm", "-f", "ex").returncode == 0


def test_ps_size_counts_the_writable_layer(daemon):
    d = daemon.docker
    d("run", "--name", "sized", "busybox", "dd", "if=/dev/zero", "of=/blob", "bs=1000", "count=5")
    size = json.loads(d("inspect", "--size", "sized").stdout)[0]
    assert size["SizeRw"] == 5000 and size["SizeRootFs"] > 1_000_000
    assert d("ps", "-a", "-s", "--filter", "name=sized", "--format", "{{.Size}}").stdout.startswith(
        "5kB"
    )
    assert d("rm", "sized").returncode == 0


def test_runtime_per_container(daemon):
    r = daemon.docker("run", "--rm", "--runtime", "runc", "busybox", "echo", "via runc")
    assert (r.returncode, r.stdout) == (0, "via runc\n"), r.stderr
    bad = daemon.docker("run", "--rm", "--runtime", "kata", "busybox", "true")
    assert bad.returncode == 125 and "unknown or invalid runtime name: kata" in bad.stderr


def test_failed_start_of_rm_container_removes_it(daemon):
    r = daemon.docker("run", "--rm", "--name", "gone", "busybox", "nosuchcmd", timeout=20)
    assert r.returncode == 127 and "executable file not found" in r.stderr
    deadline = time.monotonic() + 10
    while daemon.docker("inspect", "gone").returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert daemon.docker("inspect", "gone").returncode != 0
