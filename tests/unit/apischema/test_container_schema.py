import time
from pathlib import Path

import pytest

from dockwright.api.schema.common import parse_time, rfc3339nano
from dockwright.api.schema.containers import inspect_json, parse_create, status_text, summary_json
from dockwright.engine.containers.views import ContainerView
from dockwright.errors import InvalidParameter
from dockwright.types.container import Container, ContainerState
from dockwright.types.humanize import human_duration

pytestmark = pytest.mark.unit

BODY = {
    "Image": "busybox",
    "Cmd": ["echo", "hi"],
    "Env": ["A=1"],
    "Tty": False,
    "Labels": {"x": "y"},
    "StopTimeout": 3,
    "HostConfig": {
        "AutoRemove": True,
        "Binds": ["/tmp:/host"],
        "Mounts": [{"Type": "tmpfs", "Target": "/run", "TmpfsOptions": {"SizeBytes": 1024}}],
        "Memory": 64 << 20,
        "NanoCpus": 500000000,
        "PidsLimit": 20,
        "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
        "NetworkMode": "none",
        "CapAdd": ["NET_ADMIN"],
    },
}


def test_parse_create_maps_docker_fields():
    config, host = parse_create(BODY)
    assert config.cmd == ("echo", "hi") and config.labels == {"x": "y"} and config.stop_timeout == 3
    assert host.auto_remove and host.binds == ("/tmp:/host",)
    assert host.mounts[0].type == "tmpfs" and host.mounts[0].tmpfs_size == 1024
    assert host.resources.memory == 64 << 20 and host.resources.pids_limit == 20
    assert host.restart_policy.name == "on-failure" and host.restart_policy.maximum_retry_count == 2
    assert host.network_mode == "none" and host.cap_add == ("NET_ADMIN",)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"Image": 5},
        {"Image": "b", "Tty": "yes"},
        {"Image": "b", "HostConfig": {"Mounts": [{"Type": "bind"}]}},
    ],
)
def test_parse_create_rejects_bad_types(body):
    with pytest.raises(InvalidParameter):
        parse_create(body)


def _view(state: ContainerState) -> ContainerView:
    config, host = parse_create(BODY)
    c = Container(
        "f" * 64,
        "web",
        1_700_000_000.5,
        "sha256:" + "a" * 64,
        config,
        host,
        state,
        path="echo",
        args=("hi",),
    )
    p = Path("/x")
    return ContainerView(c, "busybox", (), p, p, p, p, (p,), p, p, p)


def test_inspect_and_summary_shapes():
    v = _view(
        ContainerState(
            status="exited", exit_code=3, started_at=time.time() - 9, finished_at=time.time() - 5
        )
    )
    doc = inspect_json(v)
    assert doc["Name"] == "/web" and doc["State"]["ExitCode"] == 3 and not doc["State"]["Running"]
    assert doc["Config"]["Cmd"] == ["echo", "hi"] and doc["HostConfig"]["AutoRemove"] is True
    assert doc["Created"] == "2023-11-14T22:13:20.5Z"
    assert doc["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    row = summary_json(v)
    assert row["Names"] == ["/web"] and row["Command"] == "echo hi" and row["State"] == "exited"
    assert row["Status"].startswith("Exited (3) ") and row["Status"].endswith(" ago")


def test_status_texts():
    now = 1000.0
    assert status_text(_view(ContainerState()), now) == "Created"
    assert (
        status_text(_view(ContainerState(status="running", started_at=990)), now) == "Up 10 seconds"
    )
    assert (
        status_text(_view(ContainerState(status="paused", started_at=880)), now)
        == "Up 2 minutes (Paused)"
    )


def test_times():
    assert rfc3339nano(0) == "0001-01-01T00:00:00Z"
    assert rfc3339nano(1.25) == "1970-01-01T00:00:01.25Z"
    assert parse_time("12.5") == 12.5
    assert parse_time("") == 0
    assert abs(parse_time("10m") - (time.time() - 600)) < 2
    with pytest.raises(InvalidParameter):
        parse_time("yesterday")
    assert human_duration(0.2) == "Less than a second"
    assert human_duration(61) == "About a minute"
    assert human_duration(7200) == "2 hours"
