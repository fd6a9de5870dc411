"""build_spec against golden config.json files; UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dockwright.errors import InvalidParameter
from dockwright.kernel.caps import CAPABILITIES
from dockwright.kernel.devices import DeviceNode
from dockwright.runtime.caps import DEFAULT_CAPABILITIES, effective_capabilities
from dockwright.runtime.spec import (
    build_exec_process,
    build_spec,
    docker_env,
    parse_device_cgroup_rule,
)
from dockwright.runtime.spec_mounts import merge_tmpfs_options, tmpfs_size_option
from dockwright.runtime.types import BindMount, ResolvedUser, ResourceLimits, RunSpec, TmpfsMount

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent / "golden"
ROOTFS = "/var/lib/dockwright/containers/c0ffee/merged"
NO_SYS_RESOURCE = tuple(c for c in CAPABILITIES if c != "CAP_SYS_RESOURCE")

CASES = {
    "default": RunSpec(
        rootfs=ROOTFS, args=("echo", "hi"), hostname="c0ffee", cgroups_path="/dockwright/c0ffee"
    ),
    "tty_user_caps": RunSpec(
        rootfs=ROOTFS,
        args=("sh",),
        env=("PATH=/bin", "FOO=bar", "HOSTNAME"),
        cwd="/tmp",
        uid=1000,
        gid=1000,
        additional_gids=(10, 20),
        tty=True,
        console_size=(24, 80),
        hostname="web",
        domainname="example.com",
        cap_add=("net_admin", "CAP_SYS_PTRACE"),
        cap_drop=("MKNOD", "cap_net_raw"),
    ),
    "mounts_readonly_init": RunSpec(
        rootfs=ROOTFS,
        args=("/app", "--serve"),
        readonly_rootfs=True,
        binds=(
            BindMount("/srv/data", "/data"),
            BindMount("/srv/conf", "/etc/app", readonly=True, propagation="rslave"),
            BindMount("/srv/data/sub", "/data/sub", recursive=False),
        ),
        tmpfs=(
            TmpfsMount("/run", options=("rw", "exec", "size=64m")),
            TmpfsMount("/cache", size_bytes=3 * 1024 * 1024, mode=0o1777),
        ),
        hosts_path="/var/lib/dockwright/containers/c0ffee/hosts",
        hostname_path="/var/lib/dockwright/containers/c0ffee/hostname",
        resolv_conf_path="/var/lib/dockwright/containers/c0ffee/resolv.conf",
        init_path="/usr/bin/tini-static",
        shm_size=128 * 1024 * 1024,
        network="/run/netns/dw-c0ffee",
        sysctls={"net.core.somaxconn": "1024", "net.ipv4.ip_unprivileged_port_start": "1024"},
    ),
    "privileged_host_resources": RunSpec(
        rootfs=ROOTFS,
        args=("top",),
        privileged=True,
        network="host",
        devices=(
            DeviceNode("/dev/null", "c", 1, 3),
            DeviceNode("/dev/sda", "b", 8, 0, 0o660, 0, 6),
        ),
        available_capabilities=NO_SYS_RESOURCE,
        resources=ResourceLimits(
            memory=64 * 1024 * 1024,
            memory_swap=128 * 1024 * 1024,
            nano_cpus=1_500_000_000,
            cpu_shares=512,
            cpuset_cpus="0",
            pids_limit=100,
        ),
        cgroups_path="/dockwright/c0ffee",
    ),
    "devices_rules_pids_unlimited": RunSpec(
        rootfs=ROOTFS,
        args=("true",),
        devices=(DeviceNode("/dev/fuse", "c", 10, 229),),
        device_cgroup_rules=("c 1:* rwm", "b *:* m"),
        resources=ResourceLimits(pids_limit=0, cpu_period=50000, cpu_quota=25000),
        masked_paths=("/proc/kcore",),
        readonly_paths=(),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_spec_matches_golden(name: str) -> None:
    spec = build_spec(CASES[name])
    path = GOLDEN / f"spec_{name}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(spec, indent=2) + "\n")
    assert spec == json.loads(path.read_text())


def test_default_spec_has_docker_defaults() -> None:
    spec = build_spec(CASES["default"])
    assert spec["process"]["capabilities"]["bounding"] == list(DEFAULT_CAPABILITIES)
    assert [n["type"] for n in spec["linux"]["namespaces"]] == [
        "mount",
        "network",
        "uts",
        "pid",
        "ipc",
    ]
    shm = next(m for m in spec["mounts"] if m["destination"] == "/dev/shm")
    assert "size=67108864" in shm["options"]
    assert "seccomp" not in spec["linux"]
    assert spec["process"]["env"][:2] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=c0ffee",
    ]


def test_privileged_clears_masks_and_mounts_sys_rw() -> None:
    spec = build_spec(CASES["privileged_host_resources"])
    assert "maskedPaths" not in spec["linux"] and "readonlyPaths" not in spec["linux"]
    sys_mount = next(m for m in spec["mounts"] if m["destination"] == "/sys")
    assert "ro" not in sys_mount["options"]
    assert spec["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert "CAP_SYS_RESOURCE" not in spec["process"]["capabilities"]["bounding"]
    assert spec["linux"]["resources"]["cpu"] == {
        "shares": 512,
        "quota": 150000,
        "period": 100000,
        "cpus": "0",
    }


def test_non_root_gets_bounding_only() -> None:
    caps = build_spec(CASES["tty_user_caps"])["process"]["capabilities"]
    assert set(caps) == {"bounding"}
    assert "CAP_NET_ADMIN" in caps["bounding"] and "CAP_MKNOD" not in caps["bounding"]


def test_user_bind_overrides_network_file_and_default_mount() -> None:
    run = RunSpec(
        rootfs=ROOTFS,
        args=("true",),
        binds=(BindMount("/my/hosts", "/etc/hosts"), BindMount("/host/dev", "/dev")),
        hosts_path="/generated/hosts",
    )
    dests = [(m["destination"], m["source"]) for m in build_spec(run)["mounts"]]
    assert ("/etc/hosts", "/my/hosts") in dests and ("/etc/hosts", "/generated/hosts") not in dests
    assert not any(d.startswith("/dev/") for d, _ in dests)


@pytest.mark.parametrize(
    ("add", "drop", "expected"),
    [
        ((), ("ALL",), []),
        (("chown",), ("all",), ["CAP_CHOWN"]),
        (("ALL",), ("SYS_ADMIN",), [c for c in NO_SYS_RESOURCE if c != "CAP_SYS_ADMIN"]),
        (
            ("CAP_KILL",),
            ("CAP_KILL",),
            [c for c in DEFAULT_CAPABILITIES if c != "CAP_KILL"] + ["CAP_KILL"],
        ),
    ],
)
def test_capability_tweaks(
    add: tuple[str, ...], drop: tuple[str, ...], expected: list[str]
) -> None:
    got = effective_capabilities(
        add, drop, privileged=False, available=NO_SYS_RESOURCE, known=CAPABILITIES
    )
    assert got == expected


def test_unknown_capability_has_dockers_text() -> None:
    with pytest.raises(InvalidParameter, match='unknown capability: "CAP_FLY"'):
        build_spec(RunSpec(rootfs=ROOTFS, args=("true",), cap_add=("fly",)))


def test_env_override_and_removal() -> None:
    env = docker_env(["PATH=/x", "A=1", "TERM", "A=2"], "h", tty=True)
    assert env == ["PATH=/x", "HOSTNAME=h", "A=2"]


def test_tmpfs_options_merge_last_wins() -> None:
    assert merge_tmpfs_options(["noexec", "nosuid", "rprivate", "exec", "size=1m", "size=2m"]) == [
        "nosuid",
        "rprivate",
        "exec",
        "size=2m",
    ]
    with pytest.raises(InvalidParameter, match="invalid tmpfs option"):
        merge_tmpfs_options(["bogus=1"])
    assert [tmpfs_size_option(n) for n in (1 << 30, 3 << 20, 5 << 10, 1000)] == [
        "size=1g",
        "size=3m",
        "size=5k",
        "size=1000",
    ]


def test_device_cgroup_rules() -> None:
    assert parse_device_cgroup_rule("c 1:* rw") == {
        "allow": True,
        "type": "c",
        "major": 1,
        "access": "rw",
    }
    with pytest.raises(InvalidParameter, match="invalid device cgroup rule format: 'x 1:2'"):
        parse_device_cgroup_rule("x 1:2")


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (RunSpec(rootfs=ROOTFS, args=()), "no command specified"),
        (RunSpec(rootfs=ROOTFS, args=("x",), network="netns0"), "invalid network namespace path"),
        (
            RunSpec(rootfs=ROOTFS, args=("x",), binds=(BindMount("/a", "rel"),)),
            "mount path must be absolute",
        ),
        (
            RunSpec(rootfs=ROOTFS, args=("x",), binds=(BindMount("/a", "/b", propagation="odd"),)),
            "invalid propagation",
        ),
        (
            RunSpec(rootfs=ROOTFS, args=("x",), resources=ResourceLimits(nano_cpus=1, cpu_quota=5)),
            "Nano CPUs and CPU Quota",
        ),
    ],
)
def test_bad_input_is_invalid_parameter(run: RunSpec, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        build_spec(run)


def test_exec_process_is_derived_from_the_containers() -> None:
    base = build_spec(CASES["default"])["process"]
    proc = build_exec_process(
        base, args=["ls", "-l"], env=["PATH=/bin", "X=1"], cwd="", tty=True, console_size=(10, 20)
    )
    assert (proc["args"], proc["env"], proc["cwd"], proc["terminal"]) == (
        ["ls", "-l"],
        ["PATH=/bin", "X=1"],
        "/",
        True,
    )
    assert proc["consoleSize"] == {"height": 10, "width": 20}
    assert proc["capabilities"] == base["capabilities"] and proc["user"] == {"uid": 0, "gid": 0}
    other = build_exec_process(
        base,
        args=["id"],
        env=[],
        cwd="/tmp",
        tty=False,
        user=ResolvedUser(1000, 1000, (5,), "/home"),
        privileged=True,
        available_capabilities=NO_SYS_RESOURCE,
    )
    assert other["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [5]}
    assert (
        other["capabilities"]["effective"] == list(NO_SYS_RESOURCE) and "consoleSize" not in other
    )
    with pytest.raises(InvalidParameter, match="no exec command"):
        build_exec_process(base, args=[], env=[], cwd="/", tty=False)
