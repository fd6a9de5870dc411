"""The daemon runs its OCI runtimes from read-only bind mounts of themselves (crun then skips
copying its own binary at every call); the mounts outlive a daemon while containers run, since
their conmons call the runtime by that path, and go with the last daemon that leaves none."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from tests.integration.conftest import (
    bootstrap_busybox,
    mounts_under,
    remove_all_containers,
    start_daemon,
    stop_daemon,
)

pytestmark = pytest.mark.integration


def pinned(root: Path) -> dict[str, str]:
    """Mount point → options of the runtime mounts under `root`."""
    out = {}
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if fields[1].startswith(str(root / "run" / "bin")):
            out[fields[1]] = fields[3]
    return out


def test_runtime_runs_from_a_read_only_mount_that_outlives_a_killed_daemon() -> None:
    root = Path(tempfile.mkdtemp(prefix="dwt-pin-", dir="/tmp"))
    d = start_daemon(root)
    try:
        bootstrap_busybox(d)
        crun = root / "run" / "bin" / "crun"
        assert pinned(root)[str(crun)].split(",")[0] == "ro"
        with pytest.raises(OSError):
            crun.open("ab").close()  # not even root writes through it
        assert d.docker("run", "-d", "--name", "keep", "busybox", "sleep", "600").returncode == 0
        conmon = subprocess.run(["pgrep", "-af", "conmon"], capture_output=True, text=True)
        assert f"-r {crun} " in conmon.stdout
        stop_daemon(d, signal.SIGKILL)
        assert str(crun) in pinned(root)  # the container's conmon still needs it
        d = start_daemon(root)
        assert d.docker("exec", "keep", "true").returncode == 0
        remove_all_containers(d)
        stop_daemon(d)
        assert pinned(root) == {}
    finally:
        stop_daemon(d)
        leftover = mounts_under(root)
        for m in reversed(leftover):
            subprocess.run(["umount", "-l", m], check=False)
        shutil.rmtree(root, ignore_errors=True)
        assert not leftover
