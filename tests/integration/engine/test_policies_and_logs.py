"""Restart policies, auto-remove, log options and event replay."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.integration


def _inspect(daemon, name):
    return json.loads(daemon.docker("inspect", name).stdout)[0]


def _wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_on_failure_restarts_up_to_the_limit(daemon):
    d = daemon.docker
    d(
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "echo run; exit 1",
    )
    assert _wait_for(
        lambda: (
            _inspect(daemon, "flaky")["RestartCount"] == 2
            and _inspect(daemon, "flaky")["State"]["Status"] == "exited"
        )
    )
    time.sleep(0.5)
    state = _inspect(daemon, "flaky")
    assert (state["RestartCount"], state["State"]["ExitCode"]) == (2, 1)
    assert d("logs", "flaky").stdout == "run\nrun\nrun\n"
    assert d("rm", "flaky").returncode == 0


def test_always_restarts_until_stopped(daemon):
    d = daemon.docker
    d("run", "-d", "--name", "phoenix", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2")
    assert _wait_for(lambda: _inspect(daemon, "phoenix")["RestartCount"] >= 1)
    assert d("stop", "-t", "1", "phoenix").returncode == 0
    count = _inspect(daemon, "phoenix")["RestartCount"]
    time.sleep(1)
    state = _inspect(daemon, "phoenix")
    assert state["State"]["Status"] == "exited" and state["RestartCount"] == count
    assert d("rm", "phoenix").returncode == 0


def test_auto_remove_on_exit_of_detached_container(daemon):
    d = daemon.docker
    d("run", "-d", "--rm", "--name", "ephemeral", "busybox", "true")
    assert _wait_for(lambda: d("inspect", "ephemeral").returncode != 0)


def test_logs_tail_timestamps_since(daemon):
    d = daemon.docker
    d(
        "run",
        "--name",
        "chatty",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4; do echo l$i; done; echo e >&2",
    )
    assert d("logs", "--tail", "2", "chatty").stdout == "l4\n"
    out = d("logs", "-t", "chatty").stdout.splitlines()
    assert len(out) == 4 and out[0].endswith(" l1") and out[0][:4].isdigit() and "T" in out[0]
    assert d("logs", "--since", str(time.time() + 60), "chatty").stdout == ""
    r = d("logs", "chatty")
    assert (r.stdout, r.stderr) == ("l1\nl2\nl3\nl4\n", "e\n")
    assert d("rm", "chatty").returncode == 0


def test_events_since_zero_replays(daemon):
    d = daemon.docker
    d("run", "--rm", "--name", "evented", "busybox", "true")
    r = d(
        "events",
        "--since",
        "0",
        "--until",
        str(time.time()),
        "--filter",
        "container=evented",
        "--format",
        "{{.Action}}",
    )
    assert r.stdout.split() == ["create", "attach", "start", "die", "destroy"]
