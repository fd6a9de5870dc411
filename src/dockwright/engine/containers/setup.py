"""Everything decided and prepared right before a container's process is created.

`prepare_start` mounts the rootfs, writes /etc/hostname, /etc/hosts and /etc/resolv.conf,
resolves the user and the executable inside the image, and returns the OCI spec to run.
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockwright.engine.containers.executable import (
    StartFailed,
    check_executable,
    check_workdir,
    resolve_in_root,
)
from dockwright.engine.containers.plan import all_mounts, hosts_file, resolv_conf
from dockwright.errors import Conflict, InvalidParameter
from dockwright.kernel.caps import bounding_capabilities
from dockwright.runtime.seccomp import parse_security_opts
from dockwright.runtime.spec import build_spec
from dockwright.runtime.types import BindMount, RunSpec, TmpfsMount
from dockwright.runtime.users import resolve_user
from dockwright.types.container import RUNNING, Container, ExecConfig, MountSpec

if TYPE_CHECKING:
    from dockwright.engine.containers.base import ContainerBase

__all__ = ["StartFailed", "StartPlan", "exec_process", "prepare_start", "update_resources"]

TINI = "/usr/bin/tini-static"
_CAPS: tuple[str, ...] | None = None


@dataclass(frozen=True)
class StartPlan:
    spec: dict[str, Any]


def available_caps() -> tuple[str, ...]:
    global _CAPS
    if _CAPS is None:
        _CAPS = bounding_capabilities()
    return _CAPS


async def prepare_start(svc: ContainerBase, c: Container, netns: str | None = None) -> StartPlan:
    """The start plan; `netns`: a namespace made ahead for the container to join."""
    network = netns or _network(svc, c)
    return await asyncio.to_thread(_mount_and_plan, svc, c, network)


def _mount_and_plan(svc: ContainerBase, c: Container, network: str) -> StartPlan:
    """The blocking part of a start, in one worker-thread hop."""
    return _plan(svc, c, str(svc.rootfs.mount(c.id)), network)


def _network(svc: ContainerBase, c: Container) -> str:
    mode = c.host.network_mode
    if mode == "host":
        return "host"
    if mode.startswith("container:"):
        other = svc.get(mode.split(":", 1)[1])
        if other.state.status != RUNNING or not other.state.pid:
            raise Conflict(f"cannot join network of a non running container: {other.id}")
        return f"/proc/{other.state.pid}/ns/net"
    return "new"


def _plan(svc: ContainerBase, c: Container, rootfs: str, network: str) -> StartPlan:
    d = svc.container_dir(c.id)
    hostname = socket.gethostname() if network == "host" else c.config.hostname
    _write_etc_files(d, c, hostname, network == "host")
    mounts = all_mounts(c.host)
    _ensure_bind_sources(mounts)
    user = resolve_user(Path(rootfs), c.config.user)
    env = c.config.env
    if not any(e.startswith("HOME=") for e in env):
        env = (*env, f"HOME={user.home or '/'}")
    cwd = c.config.working_dir or "/"
    _ensure_workdir(rootfs, cwd)
    check_executable(rootfs, c.path, env, cwd)
    security = parse_security_opts(c.host.security_opt)
    run = RunSpec(
        rootfs=rootfs,
        args=(c.path, *c.args),
        env=env,
        cwd=cwd,
        uid=user.uid,
        gid=user.gid,
        additional_gids=user.additional_gids,
        tty=c.config.tty,
        console_size=c.host.console_size if all(c.host.console_size) else None,
        hostname=hostname,
        domainname=c.config.domainname,
        network=network,
        readonly_rootfs=c.host.readonly_rootfs,
        privileged=c.host.privileged,
        cap_add=c.host.cap_add,
        cap_drop=c.host.cap_drop,
        binds=tuple(_bind(m) for m in mounts if m.type == "bind"),
        tmpfs=tuple(_tmpfs(m) for m in mounts if m.type == "tmpfs"),
        hosts_path=str(d / "hosts"),
        hostname_path=str(d / "hostname"),
        resolv_conf_path=str(d / "resolv.conf"),
        init_path=TINI if c.host.init else None,
        shm_size=c.host.shm_size or 64 * 1024 * 1024,
        resources=c.host.resources,
        cgroups_path=f"/{svc.config.cgroup_name}/{c.id}",
        sysctls=c.host.sysctls,
        available_capabilities=available_caps(),
        seccomp=security.seccomp,
        no_new_privileges=security.no_new_privileges,
    )
    return StartPlan(build_spec(run))


def _write_etc_files(d: Path, c: Container, hostname: str, host_net: bool) -> None:
    (d / "hostname").write_text(hostname + "\n")
    if host_net:
        hosts = Path("/etc/hosts").read_text()
        hosts += "".join(
            f"{e.partition(':')[2]}\t{e.partition(':')[0]}\n" for e in c.host.extra_hosts
        )
    else:
        hosts = hosts_file(hostname, c.config.domainname, c.host.extra_hosts, host_net)
    (d / "hosts").write_text(hosts)
    try:
        host_resolv = Path("/etc/resolv.conf").read_text()
    except OSError:
        host_resolv = ""
    h = c.host
    (d / "resolv.conf").write_text(resolv_conf(host_resolv, h.dns, h.dns_search, h.dns_options))


def _ensure_bind_sources(mounts: list[MountSpec]) -> None:
    for m in mounts:
        if m.type != "bind" or os.path.exists(m.source):
            continue
        if not m.create_source:
            raise InvalidParameter(
                f'invalid mount config for type "bind": bind source path does not exist: {m.source}'
            )
        os.makedirs(m.source, exist_ok=True)


def _ensure_workdir(rootfs: str, cwd: str) -> None:
    """Docker creates a missing WorkingDir; never through a symlink that leaves the rootfs."""
    current = "/"
    for part in [p for p in cwd.split("/") if p]:
        current = current.rstrip("/") + "/" + part
        host = resolve_in_root(rootfs, current)
        if host is None:
            parent = resolve_in_root(rootfs, current.rsplit("/", 1)[0] or "/")
            if parent is None:
                return
            os.mkdir(os.path.join(parent, part), 0o755)


def _bind(m: MountSpec) -> BindMount:
    return BindMount(
        source=m.source,
        destination=m.target,
        readonly=m.read_only,
        propagation=m.propagation or "rprivate",
    )


def _tmpfs(m: MountSpec) -> TmpfsMount:
    return TmpfsMount(
        destination=m.target,
        size_bytes=m.tmpfs_size,
        mode=m.tmpfs_mode,
        options=("ro",) if m.read_only else (),
    )


async def exec_process(svc: ContainerBase, c: Container, cfg: ExecConfig) -> dict[str, Any]:
    """The OCI process of an exec: the container's process with the exec's overrides."""
    import json

    spec = json.loads((svc.container_dir(c.id) / "config.json").read_text())
    process: dict[str, Any] = dict(spec["process"])
    env = list(process.get("env", []))
    for entry in cfg.env:
        key = entry.split("=", 1)[0]
        env = [e for e in env if e.split("=", 1)[0] != key] + [entry]
    process.update(args=list(cfg.cmd), env=env, terminal=cfg.tty)
    process.pop("consoleSize", None)
    if cfg.working_dir:
        process["cwd"] = cfg.working_dir
    rootfs = svc.rootfs.merged_dir(c.id)  # an exec's container runs: its root is mounted
    try:
        check_workdir(str(rootfs), process.get("cwd", "/"))
        check_executable(str(rootfs), cfg.cmd[0], tuple(env), process.get("cwd", "/"))
    except StartFailed as exc:
        raise exc.for_exec() from None
    if cfg.user:
        user = await asyncio.to_thread(resolve_user, rootfs, cfg.user)
        process["user"] = {"uid": user.uid, "gid": user.gid}
        if user.additional_gids:
            process["user"]["additionalGids"] = list(user.additional_gids)
    if cfg.privileged:
        caps = list(available_caps())
        process["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
    return process


async def update_resources(svc: ContainerBase, c: Container) -> None:
    """Apply new limits to a running container through the runtime's `update`."""
    updater = getattr(svc.runtime_of(c), "update", None)
    if updater is None:
        raise InvalidParameter("this runtime cannot update a running container")
    limits = build_spec(RunSpec(rootfs="/", args=("x",), resources=c.host.resources))["linux"][
        "resources"
    ]
    await updater(c.id, limits)
