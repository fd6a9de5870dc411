"""The default seccomp profile through the real docker CLI: on by default, off when privileged,
widened by capabilities, reported by `docker info`."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.integration
PROBE = "grep Seccomp: /proc/self/status; unshare -U true 2>&1 && echo allowed"


def test_containers_get_the_default_profile(daemon: Any) -> None:
    r = daemon.docker("run", "--rm", "busybox", "sh", "-c", PROBE)
    assert r.returncode != 0
    assert "Seccomp:\t2" in r.stdout  # filter mode
    assert "Operation not permitted" in r.stdout and "allowed" not in r.stdout


def test_privileged_containers_run_unfiltered(daemon: Any) -> None:
    r = daemon.docker("run", "--rm", "--privileged", "busybox", "sh", "-c", PROBE)
    assert (r.returncode, r.stdout) == (0, "Seccomp:\t0\nallowed\n")


def test_cap_sys_admin_unlocks_unshare(daemon: Any) -> None:
    r = daemon.docker("run", "--rm", "--cap-add", "SYS_ADMIN", "busybox", "sh", "-c", PROBE)
    assert (r.returncode, r.stdout) == (0, "Seccomp:\t2\nallowed\n")


def test_info_lists_the_builtin_profile(daemon: Any) -> None:
    r = daemon.docker("info", "--format", "{{json .SecurityOptions}}")
    assert "name=seccomp,profile=builtin" in json.loads(r.stdout)
