"""Docker's container JSON: the create body in, inspect and list shapes out."""

from __future__ import annotations

import time
from typing import Any

from dockwright.api.schema.common import (
    field,
    rfc3339nano,
    str_list,
    str_map,
)
from dockwright.api.schema.networks import (
    networks_json,
    ports_json,
    summary_ports,
    top_level_json,
)
from dockwright.engine.containers.views import ContainerView
from dockwright.engine.networks import ContainerNetworking
from dockwright.errors import InvalidParameter
from dockwright.types.container import (
    ContainerConfig,
    HealthConfig,
    HostSettings,
    MountSpec,
    Resources,
    RestartPolicy,
)
from dockwright.types.humanize import human_duration


def parse_create(body: Any) -> tuple[ContainerConfig, HostSettings]:
    if not isinstance(body, dict):
        raise InvalidParameter("config cannot be empty in order to create a container")
    host = parse_host_config(field(body, "HostConfig", dict, {}))
    health = field(body, "Healthcheck", dict)
    config = ContainerConfig(
        image=field(body, "Image", str, ""),
        cmd=str_list(body, "Cmd"),
        entrypoint=str_list(body, "Entrypoint"),
        env=str_list(body, "Env") or (),
        working_dir=field(body, "WorkingDir", str, ""),
        user=field(body, "User", str, ""),
        hostname=field(body, "Hostname", str, ""),
        domainname=field(body, "Domainname", str, ""),
        tty=field(body, "Tty", bool, False),
        open_stdin=field(body, "OpenStdin", bool, False),
        stdin_once=field(body, "StdinOnce", bool, False),
        attach_stdin=field(body, "AttachStdin", bool, False),
        attach_stdout=field(body, "AttachStdout", bool, False),
        attach_stderr=field(body, "AttachStderr", bool, False),
        labels=str_map(body, "Labels"),
        stop_signal=field(body, "StopSignal", str) or None,
        stop_timeout=field(body, "StopTimeout", int),
        healthcheck=_health(health) if health else None,
        exposed_ports=tuple(sorted(field(body, "ExposedPorts", dict, {}))),
        volumes=tuple(sorted(field(body, "Volumes", dict, {}))),
        network_disabled=field(body, "NetworkDisabled", bool, False),
        shell=str_list(body, "Shell") or (),
    )
    return config, host


def _health(raw: dict[str, Any]) -> HealthConfig:
    return HealthConfig(
        test=str_list(raw, "Test") or (),
        interval=field(raw, "Interval", int, 0),
        timeout=field(raw, "Timeout", int, 0),
        retries=field(raw, "Retries", int, 0),
        start_period=field(raw, "StartPeriod", int, 0),
        start_interval=field(raw, "StartInterval", int, 0),
    )


def parse_resources(raw: dict[str, Any]) -> Resources:
    return Resources(
        memory=field(raw, "Memory", int, 0),
        memory_swap=field(raw, "MemorySwap", int, 0),
        memory_reservation=field(raw, "MemoryReservation", int, 0),
        nano_cpus=field(raw, "NanoCpus", int, 0),
        cpu_shares=field(raw, "CpuShares", int, 0),
        cpu_period=field(raw, "CpuPeriod", int, 0),
        cpu_quota=field(raw, "CpuQuota", int, 0),
        cpuset_cpus=field(raw, "CpusetCpus", str, ""),
        cpuset_mems=field(raw, "CpusetMems", str, ""),
        pids_limit=field(raw, "PidsLimit", int),
    )


def parse_restart_policy(raw: dict[str, Any] | None) -> RestartPolicy | None:
    if not raw:
        return None
    return RestartPolicy(
        name=field(raw, "Name", str, "no") or "no",
        maximum_retry_count=field(raw, "MaximumRetryCount", int, 0),
    )


def parse_host_config(raw: dict[str, Any]) -> HostSettings:
    return HostSettings(
        binds=str_list(raw, "Binds") or (),
        mounts=tuple(_mount(m) for m in field(raw, "Mounts", list, [])),
        tmpfs=str_map(raw, "Tmpfs"),
        network_mode=field(raw, "NetworkMode", str, "") or "default",
        privileged=field(raw, "Privileged", bool, False),
        cap_add=str_list(raw, "CapAdd") or (),
        security_opt=str_list(raw, "SecurityOpt") or (),
        cap_drop=str_list(raw, "CapDrop") or (),
        readonly_rootfs=field(raw, "ReadonlyRootfs", bool, False),
        init=field(raw, "Init", bool),
        runtime=field(raw, "Runtime", str, ""),
        restart_policy=parse_restart_policy(field(raw, "RestartPolicy", dict)) or RestartPolicy(),
        auto_remove=field(raw, "AutoRemove", bool, False),
        resources=parse_resources(raw),
        port_bindings=field(raw, "PortBindings", dict, {}),
        publish_all_ports=field(raw, "PublishAllPorts", bool, False),
        dns=str_list(raw, "Dns") or (),
        dns_search=str_list(raw, "DnsSearch") or (),
        dns_options=str_list(raw, "DnsOptions") or (),
        extra_hosts=str_list(raw, "ExtraHosts") or (),
        shm_size=field(raw, "ShmSize", int, 0),
        sysctls=str_map(raw, "Sysctls"),
        log_config=field(raw, "LogConfig", dict) or {"Type": "json-file", "Config": {}},
        volumes_from=str_list(raw, "VolumesFrom") or (),
        oom_kill_disable=bool(field(raw, "OomKillDisable", bool, False)),
        console_size=_console_size(raw),
    )


def _console_size(raw: dict[str, Any]) -> tuple[int, int]:
    size = field(raw, "ConsoleSize", list, [0, 0])
    if len(size) != 2 or not all(isinstance(v, int) and v >= 0 for v in size):
        raise InvalidParameter("invalid ConsoleSize: expected [height, width]")
    return size[0], size[1]


def _mount(raw: Any) -> MountSpec:
    if not isinstance(raw, dict):
        raise InvalidParameter("invalid mount config: expected an object")
    kind = field(raw, "Type", str, "")
    target = field(raw, "Target", str, "")
    if not kind:
        raise InvalidParameter("invalid mount config: mount type unknown")
    if not target:
        raise InvalidParameter(
            f'invalid mount config for type "{kind}": field Target must not be empty'
        )
    bind = field(raw, "BindOptions", dict, {})
    tmpfs = field(raw, "TmpfsOptions", dict, {})
    if kind == "bind" and not field(raw, "Source", str, ""):
        raise InvalidParameter(
            'invalid mount config for type "bind": field Source must not be empty'
        )
    return MountSpec(
        type=kind,
        target=target,
        source=field(raw, "Source", str, ""),
        read_only=field(raw, "ReadOnly", bool, False),
        propagation=field(bind, "Propagation", str, ""),
        tmpfs_size=field(tmpfs, "SizeBytes", int, 0),
        tmpfs_mode=field(tmpfs, "Mode", int, 0),
    )


def state_json(v: ContainerView) -> dict[str, Any]:
    s = v.container.state
    st = s.status
    out: dict[str, Any] = {
        "Status": st,
        "Running": st in ("running", "paused", "restarting"),
        "Paused": st == "paused",
        "Restarting": st == "restarting",
        "OOMKilled": s.oom_killed,
        "Dead": st == "dead",
        "Pid": s.pid,
        "ExitCode": s.exit_code,
        "Error": s.error,
        "StartedAt": rfc3339nano(s.started_at),
        "FinishedAt": rfc3339nano(s.finished_at),
    }
    if v.container.config.healthcheck is not None:
        out["Health"] = {"Status": s.health or "starting", "FailingStreak": 0, "Log": []}
    return out


def config_json(c: ContainerConfig) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Hostname": c.hostname,
        "Domainname": c.domainname,
        "User": c.user,
        "AttachStdin": c.attach_stdin,
        "AttachStdout": c.attach_stdout,
        "AttachStderr": c.attach_stderr,
        "Tty": c.tty,
        "OpenStdin": c.open_stdin,
        "StdinOnce": c.stdin_once,
        "Env": list(c.env),
        "Cmd": list(c.cmd) if c.cmd is not None else None,
        "Image": c.image,
        "Volumes": {v: {} for v in c.volumes} or None,
        "WorkingDir": c.working_dir,
        "Entrypoint": list(c.entrypoint) if c.entrypoint is not None else None,
        "OnBuild": list(c.on_build) or None,
        "Labels": dict(c.labels),
    }
    if c.exposed_ports:
        out["ExposedPorts"] = {p: {} for p in c.exposed_ports}
    if c.healthcheck is not None:
        h = c.healthcheck
        out["Healthcheck"] = {
            "Test": list(h.test),
            "Interval": h.interval,
            "Timeout": h.timeout,
            "Retries": h.retries,
            "StartPeriod": h.start_period,
        }
    if c.stop_signal:
        out["StopSignal"] = c.stop_signal
    if c.stop_timeout is not None:
        out["StopTimeout"] = c.stop_timeout
    if c.shell:
        out["Shell"] = list(c.shell)
    return out


def host_config_json(h: HostSettings) -> dict[str, Any]:
    r = h.resources
    return {
        "Binds": list(h.binds) or None,
        "ContainerIDFile": "",
        "LogConfig": h.log_config,
        "NetworkMode": h.network_mode,
        "PortBindings": h.port_bindings,
        "RestartPolicy": {
            "Name": h.restart_policy.name,
            "MaximumRetryCount": h.restart_policy.maximum_retry_count,
        },
        "AutoRemove": h.auto_remove,
        "VolumeDriver": "",
        "VolumesFrom": list(h.volumes_from) or None,
        "CapAdd": list(h.cap_add) or None,
        "CapDrop": list(h.cap_drop) or None,
        "CgroupnsMode": "host",
        "Dns": list(h.dns),
        "DnsOptions": list(h.dns_options),
        "DnsSearch": list(h.dns_search),
        "ExtraHosts": list(h.extra_hosts) or None,
        "GroupAdd": None,
        "IpcMode": "private",
        "Cgroup": "",
        "Links": None,
        "OomScoreAdj": 0,
        "PidMode": "",
        "Privileged": h.privileged,
        "PublishAllPorts": h.publish_all_ports,
        "ReadonlyRootfs": h.readonly_rootfs,
        "SecurityOpt": list(h.security_opt) or None,
        "Tmpfs": h.tmpfs or None,
        "UTSMode": "",
        "UsernsMode": "",
        "ShmSize": h.shm_size or 67108864,
        "Sysctls": h.sysctls or None,
        "Runtime": h.runtime,
        "Isolation": "",
        "ConsoleSize": list(h.console_size),
        "Init": h.init,
        "CpuShares": r.cpu_shares,
        "Memory": r.memory,
        "NanoCpus": r.nano_cpus,
        "CgroupParent": "",
        "BlkioWeight": 0,
        "CpuPeriod": r.cpu_period,
        "CpuQuota": r.cpu_quota,
        "CpuRealtimePeriod": 0,
        "CpuRealtimeRuntime": 0,
        "CpusetCpus": r.cpuset_cpus,
        "CpusetMems": r.cpuset_mems,
        "Devices": [],
        "DeviceCgroupRules": None,
        "DeviceRequests": None,
        "MemoryReservation": r.memory_reservation,
        "MemorySwap": r.memory_swap,
        "MemorySwappiness": None,
        "OomKillDisable": h.oom_kill_disable,
        "PidsLimit": r.pids_limit,
        "Ulimits": None,
        "CpuCount": 0,
        "CpuPercent": 0,
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
        "Mounts": [_mount_json(m) for m in h.mounts] or None,
        "MaskedPaths": None,
        "ReadonlyPaths": None,
    }


def _mount_json(m: MountSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": m.type, "Source": m.source, "Target": m.target}
    if m.read_only:
        out["ReadOnly"] = True
    if m.propagation:
        out["BindOptions"] = {"Propagation": m.propagation}
    if m.type == "tmpfs" and (m.tmpfs_size or m.tmpfs_mode):
        out["TmpfsOptions"] = {
            k: v for k, v in (("SizeBytes", m.tmpfs_size), ("Mode", m.tmpfs_mode)) if v
        }
    return out


def mounts_json(v: ContainerView) -> list[dict[str, Any]]:
    out = []
    for m in v.mounts:
        out.append(
            {
                "Type": m.type,
                "Source": m.source if m.type == "bind" else "",
                "Destination": m.target,
                "Mode": "ro" if m.read_only and m.type == "bind" else "",
                "RW": not m.read_only,
                "Propagation": (m.propagation or "rprivate") if m.type == "bind" else "",
            }
        )
    return out


def network_settings_json(
    v: ContainerView, net: ContainerNetworking | None = None
) -> dict[str, Any]:
    """NetworkSettings; `net` defaults to the view's `network` (the networks service's answer)."""
    net = net if net is not None else v.network
    return {
        "Bridge": "",
        "SandboxID": v.sandbox_id,
        "SandboxKey": v.sandbox_key,
        "HairpinMode": False,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "Ports": ports_json(net),
        "SecondaryIPAddresses": None,
        "SecondaryIPv6Addresses": None,
        **top_level_json(net),
        "Networks": networks_json(net),
    }


def inspect_json(v: ContainerView, size: bool = False) -> dict[str, Any]:
    c = v.container
    out: dict[str, Any] = {
        "Id": c.id,
        "Created": rfc3339nano(c.created),
        "Path": c.path,
        "Args": list(c.args),
        "State": state_json(v),
        "Image": c.image_id,
        "ResolvConfPath": str(v.resolv_conf_path),
        "HostnamePath": str(v.hostname_path),
        "HostsPath": str(v.hosts_path),
        "LogPath": str(v.log_path),
        "Name": "/" + c.name,
        "RestartCount": c.state.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": list(v.exec_ids) or None,
        "HostConfig": host_config_json(c.host),
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {
                "LowerDir": ":".join(str(p) for p in v.lower_dirs),
                "MergedDir": str(v.merged_dir),
                "UpperDir": str(v.upper_dir),
                "WorkDir": str(v.work_dir),
            },
        },
        "Mounts": mounts_json(v),
        "Config": config_json(c.config),
        "NetworkSettings": network_settings_json(v),
    }
    if size:
        out["SizeRw"], out["SizeRootFs"] = v.size_rw, v.size_root_fs
    return out


def status_text(v: ContainerView, now: float | None = None) -> str:
    """The STATUS column of `docker ps`."""
    s = v.container.state
    now = now or time.time()
    if s.status == "running":
        health = f" ({s.health})" if s.health else ""
        return f"Up {human_duration(now - s.started_at)}{health}"
    if s.status == "paused":
        return f"Up {human_duration(now - s.started_at)} (Paused)"
    if s.status == "restarting":
        return f"Restarting ({s.exit_code}) {human_duration(now - s.finished_at)} ago"
    if s.status == "removing":
        return "Removal In Progress"
    if s.status == "dead":
        return "Dead"
    if s.started_at:
        return f"Exited ({s.exit_code}) {human_duration(now - s.finished_at)} ago"
    return "Created"


def summary_json(v: ContainerView, size: bool = False) -> dict[str, Any]:
    c = v.container
    command = " ".join([c.path, *c.args]).strip()
    out: dict[str, Any] = {
        "Id": c.id,
        "Names": ["/" + c.name],
        "Image": v.image_name,
        "ImageID": c.image_id,
        "Command": command,
        "Created": int(c.created),
        "Ports": summary_ports(v.network),
        "Labels": dict(c.config.labels),
        "State": c.state.status,
        "Status": status_text(v),
        "HostConfig": {"NetworkMode": c.host.network_mode},
        "NetworkSettings": {"Networks": networks_json(v.network)},
        "Mounts": mounts_json(v),
    }
    if size:
        out["SizeRw"], out["SizeRootFs"] = v.size_rw, v.size_root_fs
    return out
