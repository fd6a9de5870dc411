"""Rotation defaults from daemon.json `log-opts`, and rotation resumed by a restarted daemon
for a container that kept writing while no daemon watched it."""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

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
CHATTY = "i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo $i; usleep 3000; done; sleep 60"


def log_sizes(d: Any, cid: str) -> dict[str, int]:
    directory = d.root / "data" / "containers" / cid
    return {p.name: p.stat().st_size for p in directory.iterdir() if p.name.startswith("ctr.log")}


def wait_for_line(d: Any, cid: str, last: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while last not in d.docker("logs", "--tail", "1", cid).stdout.split():
        assert time.monotonic() < deadline, f"{last} never appeared"
        time.sleep(0.2)


def test_daemon_log_opts_apply_and_survive_a_daemon_restart() -> None:
    root = Path(tempfile.mkdtemp(prefix="dwt-logrot-", dir="/tmp"))
    config = root / "daemon.json"
    config.write_text(json.dumps({"log-opts": {"max-size": "1k", "max-file": "2"}}))
    d = start_daemon(root, ("--config-file", str(config)))
    try:
        bootstrap_busybox(d)
        assert d.docker("info", "--format", "{{.LoggingDriver}}").stdout == "json-file\n"
        cid = d.docker("run", "-d", "busybox", "sh", "-c", CHATTY).stdout.strip()
        logconfig = d.docker("inspect", "-f", "{{json .HostConfig.LogConfig}}", cid).stdout
        assert json.loads(logconfig)["Config"] == {"max-file": "2", "max-size": "1k"}
        time.sleep(0.5)
        stop_daemon(d, signal.SIGKILL)
        time.sleep(1.0)  # the container writes on; nobody rotates
        assert sum(log_sizes(d, cid).values()) > 2000
        d = start_daemon(root, ("--config-file", str(config)))
        wait_for_line(d, cid, "600")
        time.sleep(0.3)
        sizes = log_sizes(d, cid)
        assert len(sizes) <= 2 and all(s <= 1000 for s in sizes.values()), sizes
        kept = [int(n) for n in d.docker("logs", cid).stdout.split()]
        assert kept == list(range(kept[0], 601)) and len(kept) >= 10
    finally:
        remove_all_containers(d)
        stop_daemon(d)
        leaked = mounts_under(root)
        pids = conmon_pids_under(root)
        shutil.rmtree(root, ignore_errors=True)
        assert not leaked and not pids
