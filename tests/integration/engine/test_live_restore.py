"""Containers outlive a SIGKILLed daemon and are re-adopted by the next one."""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from tests.integration.conftest import (
    bootstrap_busybox,
    conmon_pids_under,
    mounts_under,
    remove_all_containers,
    start_daemon,
    stop_daemon,
)

pytestmark = pytest.mark.integration


def test_sigkill_daemon_keeps_containers_and_restart_readopts():
    root = Path(tempfile.mkdtemp(prefix="dwt-live-", dir="/tmp"))
    d = start_daemon(root)
    try:
        bootstrap_busybox(d)
        loop = 'trap "exit 0" TERM; i=0; while true; do echo t$i; i=$((i+1)); sleep 0.1; done'
        assert d.docker("run", "-d", "--name", "live", "busybox", "sh", "-c", loop).returncode == 0
        assert (
            d.docker(
                "run", "-d", "--name", "quick", "busybox", "sh", "-c", "sleep 1; exit 5"
            ).returncode
            == 0
        )
        time.sleep(0.3)
        stop_daemon(d, signal.SIGKILL)
        deadline = time.monotonic() + 15  # `quick` exits while no daemon runs
        while len(conmon_pids_under(root)) > 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(conmon_pids_under(root)) == 1  # live's monitor survived; quick's finished
        d = start_daemon(root)
        states = {
            c["Names"][0]: c["State"]
            for c in json.loads(d.request("GET", "/containers/json?all=1")[1])
        }
        assert states == {"/live": "running", "/quick": "exited"}
        assert d.docker("inspect", "-f", "{{.State.ExitCode}}", "quick").stdout == "5\n"
        assert d.docker("exec", "live", "echo", "again").stdout == "again\n"
        assert d.docker("logs", "--tail", "1", "live").stdout.startswith("t")
        assert d.docker("stop", "live").returncode == 0
        assert d.docker("wait", "live").stdout == "0\n"
    finally:
        remove_all_containers(d)
        stop_daemon(d)
        leaked = mounts_under(root)
        pids = conmon_pids_under(root)
        shutil.rmtree(root, ignore_errors=True)
        assert not leaked and not pids


def test_files_without_a_record_are_swept_at_start():
    import sqlite3

    root = Path(tempfile.mkdtemp(prefix="dwt-orphan-", dir="/tmp"))
    d = start_daemon(root)
    try:
        bootstrap_busybox(d)
        assert d.docker("create", "--name", "orphan", "busybox", "true").returncode == 0
        cid = d.docker("inspect", "-f", "{{.Id}}", "orphan").stdout.strip()
        stop_daemon(d)
        with sqlite3.connect(root / "data" / "state.db") as db:  # a crash between the two steps
            db.execute("DELETE FROM containers WHERE id = ?", (cid,))
        assert (root / "data" / "containers" / cid).exists()
        d = start_daemon(root)
        assert not (root / "data" / "containers" / cid).exists()
        assert d.docker("run", "--rm", "busybox", "true").returncode == 0
    finally:
        remove_all_containers(d)
        stop_daemon(d)
        leaked = mounts_under(root)
        shutil.rmtree(root, ignore_errors=True)
        assert not leaked
