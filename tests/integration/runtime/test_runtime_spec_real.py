"""The generated config.json runs as Docker would on both runtimes: mounts, users, privileges."""

from __future__ import annotations

from pathlib import Path

import pytest
from rt_sandbox import CRUN, RUNC, Sandbox, output_of

from dockwright.kernel.devices import host_devices
from dockwright.runtime import BindMount, TmpfsMount, resolve_user

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("runtime_path", [CRUN, RUNC])
def test_mounts_files_user_and_readonly_root(sandbox: Sandbox, runtime_path: str) -> None:
    data = sandbox.root / "data"
    data.mkdir(mode=0o777)
    data.chmod(0o777)  # writable by the container's user (nobody)
    (data / "in.txt").write_text("from host")
    files = sandbox.root / "files"
    files.mkdir()
    for name, text in (
        ("hosts", "127.0.0.1 localhost box\n"),
        ("hostname", "box\n"),
        ("resolv.conf", "nameserver 127.0.0.1\n"),
    ):
        (files / name).write_text(text)
    user = resolve_user(sandbox.rootfs, "nobody")
    script = "; ".join(
        [
            "id -u; id -g",
            "cat /data/in.txt; echo",
            "echo written > /data/out.txt",
            "touch /rootfile 2>/dev/null || echo rootfs-ro",
            "echo ok > /scratch/f && cat /scratch/f",
            "cat /etc/hostname; hostname",
            "grep box /etc/hosts; cat /etc/resolv.conf",
            "stat -c %t:%T /proc/keys",  # masked: /dev/null bound over it
            "grep -c ' /dev/shm ' /proc/mounts",
        ]
    )
    code, out = output_of(
        sandbox,
        runtime_path,
        script,
        uid=user.uid,
        gid=user.gid,
        rootfs=str(sandbox.private_rootfs()),  # the runtime adds /data and /scratch to it
        readonly_rootfs=True,
        hostname="box",
        binds=(BindMount(str(data), "/data"),),
        tmpfs=(TmpfsMount("/scratch", size_bytes=1 << 20, mode=0o1777),),
        hosts_path=str(files / "hosts"),
        hostname_path=str(files / "hostname"),
        resolv_conf_path=str(files / "resolv.conf"),
    )
    assert code == 0, out
    assert out.splitlines() == [
        "65534",
        "65534",
        "from host",
        "rootfs-ro",
        "ok",
        "box",
        "box",
        "127.0.0.1 localhost box",
        "nameserver 127.0.0.1",
        "1:3",
        "1",
    ]
    assert (data / "out.txt").read_text() == "written\n"


@pytest.mark.parametrize("runtime_path", [CRUN, RUNC])
def test_privileged_and_default_capabilities(sandbox: Sandbox, runtime_path: str) -> None:
    script = "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && echo mounted; grep -q ' /sys sysfs rw' /proc/mounts && echo sys-rw; ls /dev/null"
    code, out = output_of(sandbox, runtime_path, script, privileged=True, devices=host_devices())
    assert (code, out.splitlines()) == (0, ["mounted", "sys-rw", "/dev/null"])
    code, out = output_of(
        sandbox,
        runtime_path,
        "mount -t tmpfs none /tmp 2>&1; grep -q ' /sys sysfs ro' /proc/mounts && echo sys-ro",
    )
    assert "permission denied" in out.lower() and out.endswith("sys-ro")
    code, out = output_of(
        sandbox, runtime_path, "chown 1:1 /tmp && echo chowned", cap_drop=("CHOWN",)
    )
    assert code != 0 and "chowned" not in out


def test_host_network_and_private_one(sandbox: Sandbox) -> None:
    host_links = sorted(p.name for p in Path("/sys/class/net").iterdir())
    code, out = output_of(sandbox, CRUN, "ls /sys/class/net", network="host")
    assert code == 0 and sorted(out.split()) == host_links
    code, out = output_of(
        sandbox, CRUN, "ls /sys/class/net; cat /proc/sys/net/ipv4/ip_unprivileged_port_start"
    )
    assert code == 0 and out.split() == ["lo", "0"]
