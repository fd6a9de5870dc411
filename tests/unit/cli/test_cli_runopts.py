"""`run`/`create` flags → the create request body (docker's field names and rules)."""

from __future__ import annotations

import pytest

from dockwright.cli import runparse as rp
from dockwright.cli import spec
from dockwright.cli.flags import parse
from dockwright.cli.runopts import build_create
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit

RUN = spec.COMMANDS["container run"]
FILES = {"/env.list": "# comment\nA=from-file\n\nHOMEVAR\nSPACE= x \n"}


def build(*argv: str, detach: bool = False, rm: bool = False):  # type: ignore[no-untyped-def]
    p = parse(RUN, list(argv))
    return build_create(p, {"HOMEVAR": "h", "USER": "me"}, FILES.__getitem__, "/work", detach, rm)


def test_minimal_run() -> None:
    req = build("busybox", "echo", "hi")
    body = req.body
    assert body["Image"] == "busybox"
    assert body["Cmd"] == ["echo", "hi"]
    assert (body["AttachStdin"], body["AttachStdout"], body["AttachStderr"]) == (False, True, True)
    assert body["Entrypoint"] is None
    assert body["HostConfig"]["NetworkMode"] == "default"
    assert body["HostConfig"]["RestartPolicy"] == {"Name": "no"}
    assert "Init" not in body["HostConfig"] and "PidsLimit" not in body["HostConfig"]
    assert req.params == {"name": None, "platform": None}


def test_no_command_means_image_default() -> None:
    assert build("busybox").body["Cmd"] is None


def test_detached_attaches_nothing() -> None:
    body = build("-d", "-i", "busybox", detach=True).body
    assert (body["AttachStdin"], body["AttachStdout"], body["AttachStderr"]) == (
        False,
        False,
        False,
    )
    assert body["OpenStdin"] is True


def test_interactive_tty() -> None:
    body = build("-it", "busybox", "sh").body
    assert body["AttachStdin"] and body["Tty"] and body["OpenStdin"]


def test_attach_flag_limits_streams() -> None:
    body = build("-a", "stderr", "busybox").body
    assert (body["AttachStdin"], body["AttachStdout"], body["AttachStderr"]) == (False, False, True)


def test_env_from_file_then_flags() -> None:
    body = build(
        "--env-file", "/env.list", "-e", "B=2", "-e", "USER", "-e", "UNSET", "busybox"
    ).body
    assert body["Env"] == ["A=from-file", "HOMEVAR=h", "SPACE= x ", "B=2", "USER=me"]


def test_host_config_fields() -> None:
    body = build(
        "--rm",
        "--name",
        "web",
        "-v",
        "/src:/dst:ro",
        "-v",
        "/anon",
        "--mount",
        "type=tmpfs,target=/t,tmpfs-size=1m",
        "--tmpfs",
        "/run:size=64k",
        "-m",
        "64m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "20",
        "--init",
        "--privileged",
        "--cap-add",
        "NET_ADMIN",
        "--cap-drop",
        "ALL",
        "--read-only",
        "--network",
        "none",
        "--restart",
        "on-failure:3",
        "--runtime",
        "runc",
        "--add-host",
        "h:1.2.3.4",
        "--dns",
        "9.9.9.9",
        "-p",
        "8080:80",
        "-w",
        "/tmp",
        "-u",
        "nobody",
        "--entrypoint",
        "sh",
        "-l",
        "a=b",
        "--stop-signal",
        "SIGINT",
        "--stop-timeout",
        "3",
        "-h",
        "box",
        "busybox",
        rm=True,
    ).body
    host = body["HostConfig"]
    assert host["AutoRemove"] is True
    assert host["Binds"] == ["/src:/dst:ro"]
    assert body["Volumes"] == {"/anon": {}}
    assert host["Mounts"] == [
        {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20}}
    ]
    assert host["Tmpfs"] == {"/run": "size=64k"}
    assert (host["Memory"], host["NanoCpus"], host["PidsLimit"]) == (64 << 20, 500_000_000, 20)
    assert host["Init"] is True and host["Privileged"] is True and host["ReadonlyRootfs"] is True
    assert (host["CapAdd"], host["CapDrop"]) == (["NET_ADMIN"], ["ALL"])
    assert host["NetworkMode"] == "none"
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["Runtime"] == "runc"
    assert host["ExtraHosts"] == ["h:1.2.3.4"] and host["Dns"] == ["9.9.9.9"]
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    assert body["ExposedPorts"] == {"80/tcp": {}}
    assert (body["WorkingDir"], body["User"], body["Hostname"]) == ("/tmp", "nobody", "box")
    assert body["Entrypoint"] == ["sh"]
    assert body["Labels"] == {"a": "b"}
    assert (body["StopSignal"], body["StopTimeout"]) == ("SIGINT", 3)


def test_empty_entrypoint_resets() -> None:
    assert build("--entrypoint", "", "busybox").body["Entrypoint"] == [""]


def test_healthcheck() -> None:
    body = build(
        "--health-cmd", "true", "--health-interval", "2s", "--health-retries", "3", "busybox"
    ).body
    hc = body["Healthcheck"]
    assert hc["Test"] == ["CMD-SHELL", "true"]
    assert hc["Interval"] == 2 * 10**9 and hc["Retries"] == 3
    assert build("--no-healthcheck", "busybox").body["Healthcheck"] == {"Test": ["NONE"]}


def test_relative_bind_source_is_made_absolute() -> None:
    assert build("-v", "./data:/d", "busybox").body["HostConfig"]["Binds"] == ["/work/data:/d"]


@pytest.mark.parametrize(
    ("spec_", "out"),
    [
        ("80", {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
        ("127.0.0.1:8080:80/udp", {"80/udp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}),
        (
            "8000-8001:80-81",
            {
                "80/tcp": [{"HostIp": "", "HostPort": "8000"}],
                "81/tcp": [{"HostIp": "", "HostPort": "8001"}],
            },
        ),
    ],
)
def test_publish(spec_: str, out: dict[str, object]) -> None:
    assert rp.parse_publish(spec_) == out


def test_mount_parsing() -> None:
    assert rp.parse_mount("type=bind,source=/a,target=/b,readonly,bind-propagation=rprivate") == {
        "Type": "bind",
        "Source": "/a",
        "Target": "/b",
        "ReadOnly": True,
        "BindOptions": {"Propagation": "rprivate"},
    }
    with pytest.raises(InvalidParameter, match="unexpected key 'bogus'"):
        rp.parse_mount("type=bind,bogus=1,target=/x")
    with pytest.raises(InvalidParameter, match="target is required"):
        rp.parse_mount("type=bind,source=/a")


def test_restart_policy_errors() -> None:
    with pytest.raises(InvalidParameter, match="no such policy: sometimes"):
        rp.parse_restart("sometimes")


def test_ulimit_and_device() -> None:
    assert rp.parse_ulimit("nofile=1024:2048") == {"Name": "nofile", "Soft": 1024, "Hard": 2048}
    assert rp.parse_device("/dev/fuse") == {
        "PathOnHost": "/dev/fuse",
        "PathInContainer": "/dev/fuse",
        "CgroupPermissions": "rwm",
    }
