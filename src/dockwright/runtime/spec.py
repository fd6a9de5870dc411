"""RunSpec -> OCI runtime-spec config.json, with the defaults Docker gives every container.

Pure: no file is read, so the result depends only on the RunSpec (golden-file tested) and,
for `linux.seccomp`, on the host's architecture, kernel and libseccomp (see runtime.seccomp;
the filter is also given precompiled to crun as an annotation, see runtime.seccomp_bpf).
RunSpec.seccomp defaults to no filter; the engine asks for Docker's "builtin" profile.
AppArmor is not enabled on this host, so no `apparmorProfile` is set either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from dockwright.errors import InvalidParameter
from dockwright.kernel.caps import CAPABILITIES
from dockwright.runtime.caps import effective_capabilities
from dockwright.runtime.seccomp import linux_seccomp
from dockwright.runtime.seccomp_bpf import bpf_annotations
from dockwright.runtime.spec_mounts import INIT_PATH_IN_CONTAINER, build_mounts, rootfs_propagation
from dockwright.runtime.types import ResolvedUser, ResourceLimits, RunSpec

OCI_VERSION = "1.0.2"
DEFAULT_PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CPU_PERIOD = 100_000  # microseconds, as Docker uses for NanoCpus

DEFAULT_MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
DEFAULT_READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")


def _rule(allow: bool, kind: str | None, major: int | None, minor: int | None) -> dict[str, Any]:
    rule: dict[str, Any] = {"allow": allow}
    if kind is not None:
        rule["type"] = kind
    if major is not None:
        rule["major"] = major
    if minor is not None:
        rule["minor"] = minor
    rule["access"] = "rwm"
    return rule


# Docker's default device cgroup: deny all, then allow null, zero, full... as in DefaultLinuxSpec.
DEFAULT_DEVICE_RULES = (
    _rule(False, None, None, None),
    _rule(True, "c", 1, 5),  # /dev/zero
    _rule(True, "c", 1, 3),  # /dev/null
    _rule(True, "c", 1, 9),  # /dev/urandom
    _rule(True, "c", 1, 8),  # /dev/random
    _rule(True, "c", 5, 0),  # /dev/tty
    _rule(True, "c", 5, 1),  # /dev/console
    _rule(False, "c", 10, 229),  # /dev/net/tun
)
_CGROUP_RULE = re.compile(r"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$")
_NAMESPACES = ("mount", "network", "uts", "pid", "ipc")


def parse_device_cgroup_rule(text: str) -> dict[str, Any]:
    """Docker's DeviceCgroupRules entry ("c 1:3 rwm", "a *:* m") as an OCI device rule."""
    m = _CGROUP_RULE.match(text)
    if m is None:
        raise InvalidParameter(f"invalid device cgroup rule format: '{text}'")
    kind, major, minor, access = m.groups()
    rule: dict[str, Any] = {"allow": True, "type": kind}
    if major != "*":
        rule["major"] = int(major)
    if minor != "*":
        rule["minor"] = int(minor)
    rule["access"] = access
    return rule


def docker_env(env: Iterable[str], hostname: str, tty: bool) -> list[str]:
    """PATH, HOSTNAME (and TERM with a tty) first, then the container's own variables.

    As Docker's ReplaceOrAppendEnvValues: a variable already present is replaced in place,
    and a bare "NAME" (no "=") removes NAME.
    """
    result = [f"PATH={DEFAULT_PATH_ENV}", f"HOSTNAME={hostname}"] + (["TERM=xterm"] if tty else [])
    for entry in env:
        name, eq, _ = entry.partition("=")
        index = next((i for i, e in enumerate(result) if e.partition("=")[0] == name), None)
        if not eq:
            if index is not None:
                del result[index]
        elif index is None:
            result.append(entry)
        else:
            result[index] = entry
    return result


def build_capabilities(run: RunSpec) -> dict[str, list[str]]:
    """Bounding set always; effective and permitted only for uid 0 (as execve would)."""
    caps = effective_capabilities(
        run.cap_add,
        run.cap_drop,
        privileged=run.privileged,
        available=run.available_capabilities,
        known=CAPABILITIES,
    )
    if run.uid == 0:
        return {"bounding": caps, "effective": list(caps), "permitted": list(caps)}
    return {"bounding": caps}


def build_process(run: RunSpec) -> dict[str, Any]:
    if not run.args:
        raise InvalidParameter("no command specified")
    args = list(run.args)
    if run.init_path:
        args = [INIT_PATH_IN_CONTAINER, "--", *args]
    user: dict[str, Any] = {"uid": run.uid, "gid": run.gid}
    if run.additional_gids:
        user["additionalGids"] = list(run.additional_gids)
    process: dict[str, Any] = {
        "terminal": run.tty,
        "user": user,
        "args": args,
        "env": docker_env(run.env, run.hostname, run.tty),
        "cwd": run.cwd or "/",
        "capabilities": build_capabilities(run),
        "noNewPrivileges": run.no_new_privileges,
        "oomScoreAdj": run.oom_score_adj,
    }
    if run.tty and run.console_size and all(run.console_size):
        process["consoleSize"] = {"height": run.console_size[0], "width": run.console_size[1]}
    return process


def build_namespaces(network: str) -> list[dict[str, str]]:
    result = []
    for kind in _NAMESPACES:
        if kind != "network":
            result.append({"type": kind})
        elif network in ("new", "none", ""):
            result.append({"type": "network"})
        elif network != "host":
            if not network.startswith("/"):
                raise InvalidParameter(f"invalid network namespace path: {network}")
            result.append({"type": "network", "path": network})
    return result


def build_resources(r: ResourceLimits, device_rules: list[dict[str, Any]]) -> dict[str, Any]:
    """linux.resources as Docker's WithResources: only what is set appears."""
    resources: dict[str, Any] = {"devices": device_rules}
    memory = {
        k: v
        for k, v in (
            ("limit", r.memory),
            ("reservation", r.memory_reservation),
            ("swap", r.memory_swap),
        )
        if v > 0
    }
    if memory:
        resources["memory"] = memory
    cpu = build_cpu(r)
    if cpu:
        resources["cpu"] = cpu
    if r.pids_limit is not None and r.pids_limit > 0:
        # 0 and -1 mean unlimited, the kernel's default; crun 1.8 writes -1 verbatim to the v1
        # pids.max (which wants "max") and fails, so leave the limit out instead.
        resources["pids"] = {"limit": r.pids_limit}
    return resources


def build_cpu(r: ResourceLimits) -> dict[str, Any]:
    if r.cpu_shares < 0:
        raise InvalidParameter("invalid CPU shares: must be positive")
    if r.nano_cpus and (r.cpu_quota or r.cpu_period):
        raise InvalidParameter(
            "conflicting options: Nano CPUs and CPU Period cannot both be set"
            if r.cpu_period
            else "conflicting options: Nano CPUs and CPU Quota cannot both be set"
        )
    cpu: dict[str, Any] = {}
    if r.cpu_shares > 0:
        cpu["shares"] = r.cpu_shares
    if r.nano_cpus > 0:
        cpu["quota"] = r.nano_cpus * CPU_PERIOD // 1_000_000_000
        cpu["period"] = CPU_PERIOD
    if r.cpu_quota:
        cpu["quota"] = r.cpu_quota
    if r.cpu_period:
        cpu["period"] = r.cpu_period
    if r.cpuset_cpus:
        cpu["cpus"] = r.cpuset_cpus
    if r.cpuset_mems:
        cpu["mems"] = r.cpuset_mems
    return cpu


def build_devices(run: RunSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(linux.devices, device cgroup rules); privileged gets every node and an allow-all rule."""
    nodes = [
        {
            "path": d.path,
            "type": d.type,
            "major": d.major,
            "minor": d.minor,
            "fileMode": d.file_mode,
            "uid": d.uid,
            "gid": d.gid,
        }
        for d in run.devices
    ]
    if run.privileged:
        return nodes, [{"allow": True, "access": "rwm"}]
    rules = [dict(r) for r in DEFAULT_DEVICE_RULES]
    rules += [
        {"allow": True, "type": d.type, "major": d.major, "minor": d.minor, "access": "rwm"}
        for d in run.devices
    ]
    rules += [parse_device_cgroup_rule(text) for text in run.device_cgroup_rules]
    return nodes, rules


def build_sysctls(run: RunSpec) -> dict[str, str]:
    """Docker's safe defaults for a private network namespace, then the user's (which win)."""
    sysctls: dict[str, str] = {}
    if run.network != "host":
        sysctls["net.ipv4.ping_group_range"] = "0 2147483647"
        sysctls["net.ipv4.ip_unprivileged_port_start"] = "0"
    sysctls.update(run.sysctls)
    return sysctls


def build_linux(run: RunSpec) -> dict[str, Any]:
    nodes, rules = build_devices(run)
    linux: dict[str, Any] = {
        "namespaces": build_namespaces(run.network),
        "devices": nodes,
        "resources": build_resources(run.resources, rules),
        "sysctl": build_sysctls(run),
    }
    if run.cgroups_path:
        linux["cgroupsPath"] = run.cgroups_path
    if not run.privileged:
        masked = DEFAULT_MASKED_PATHS if run.masked_paths is None else run.masked_paths
        readonly = DEFAULT_READONLY_PATHS if run.readonly_paths is None else run.readonly_paths
        linux["maskedPaths"] = list(masked)
        linux["readonlyPaths"] = list(readonly)
    propagation = rootfs_propagation(run.binds)
    if propagation:
        linux["rootfsPropagation"] = propagation
    seccomp = linux_seccomp(
        run.seccomp, build_capabilities(run)["bounding"], privileged=run.privileged
    )
    if seccomp is not None:
        linux["seccomp"] = seccomp
    return linux


def build_exec_process(
    container_process: dict[str, Any],
    *,
    args: Iterable[str],
    env: Iterable[str],
    cwd: str,
    tty: bool,
    user: ResolvedUser | None = None,
    privileged: bool = False,
    available_capabilities: tuple[str, ...] = CAPABILITIES,
    console_size: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The OCI process of an exec, derived from the container's as Docker derives it.

    `env` is final (Docker: the container's docker_env plus the exec's Env); `user` replaces
    the container's identity when the exec names one; privileged grants every capability.
    """
    process = {k: v for k, v in container_process.items() if k != "consoleSize"}
    process.update(args=list(args), env=list(env), cwd=cwd or "/", terminal=tty)
    if not process["args"]:
        raise InvalidParameter("no exec command specified")
    if user is not None:
        process["user"] = {"uid": user.uid, "gid": user.gid}
        if user.additional_gids:
            process["user"]["additionalGids"] = list(user.additional_gids)
    if privileged:
        caps = list(available_capabilities)
        process["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
    if tty and console_size and all(console_size):
        process["consoleSize"] = {"height": console_size[0], "width": console_size[1]}
    return process


def build_spec(run: RunSpec) -> dict[str, Any]:
    """The complete config.json for `run` (a dict ready for json.dump)."""
    spec: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": build_process(run),
        "root": {"path": run.rootfs, "readonly": run.readonly_rootfs},
        "mounts": build_mounts(run),
        "linux": build_linux(run),
    }
    if run.hostname:
        spec["hostname"] = run.hostname
    if run.domainname:
        spec["domainname"] = run.domainname
    annotations = bpf_annotations(spec["linux"].get("seccomp"))  # crun: no compile per start
    if annotations:
        spec["annotations"] = annotations
    return spec
