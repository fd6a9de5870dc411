"""`run`/`create` flags → the `POST /containers/create` request (query and JSON body). Pure.

Mirrors docker's opts.parse: what is set only when a flag was given (Init, PidsLimit,
StopTimeout, Entrypoint reset) uses `Parsed.given`, so the daemon's defaults stay in charge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dockwright.cli import runparse as rp
from dockwright.cli.flags import Parsed
from dockwright.errors import InvalidParameter


@dataclass
class CreateRequest:
    params: dict[str, Any]
    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


ReadFile = Callable[[str], str]


def attach_streams(p: Parsed) -> tuple[bool, bool, bool]:
    """(stdin, stdout, stderr) to attach, docker's rule: -a wins; else stdout+stderr; -i adds stdin."""
    wanted = {s.lower() for s in p.opts["attach"]}
    for s in wanted:
        if s not in ("stdin", "stdout", "stderr"):
            raise InvalidParameter(f"valid streams are STDIN, STDOUT and STDERR: {s}")
    stdin = "stdin" in wanted or p.opts["interactive"]
    if not wanted:
        return stdin, True, True
    return stdin, "stdout" in wanted, "stderr" in wanted


def build_env(p: Parsed, env: Mapping[str, str], read_file: ReadFile) -> list[str]:
    out: list[str] = []
    for path in p.opts["env_file"]:
        out += rp.parse_env_file(read_file(path), path, env)
    for item in p.opts["env"]:
        value = rp.parse_env_line(item, env)
        if value is not None:
            out.append(value)
    return out


def build_labels(p: Parsed, read_file: ReadFile) -> dict[str, str]:
    lines: list[str] = []
    for path in p.opts.get("label_file", []):
        lines += [ln.strip() for ln in read_file(path).splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    return rp.parse_kv_list(lines + p.opts["label"])


def build_healthcheck(p: Parsed) -> dict[str, Any] | None:
    o = p.opts
    if o["no_healthcheck"]:
        if o["health_cmd"] or any(
            o[k] for k in ("health_interval", "health_timeout", "health_retries")
        ):
            raise InvalidParameter("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    keys = (
        "health_cmd",
        "health_interval",
        "health_timeout",
        "health_start_period",
        "health_start_interval",
        "health_retries",
    )
    if not any(k in p.given for k in keys):
        return None
    hc: dict[str, Any] = {}
    if o["health_cmd"]:
        hc["Test"] = ["CMD-SHELL", o["health_cmd"]]
    for key, api in (
        ("health_interval", "Interval"),
        ("health_timeout", "Timeout"),
        ("health_start_period", "StartPeriod"),
        ("health_start_interval", "StartInterval"),
    ):
        if o[key] < 0:
            raise InvalidParameter(f"--{key.replace('_', '-')} cannot be negative")
        hc[api] = o[key]
    if o["health_retries"] < 0:
        raise InvalidParameter("--health-retries cannot be negative")
    hc["Retries"] = o["health_retries"]
    return hc


def build_mounts(p: Parsed, cwd: str) -> tuple[list[str], dict[str, Any], list[dict[str, Any]]]:
    """(Binds, anonymous Volumes, Mounts) from -v and --mount."""
    binds: list[str] = []
    volumes: dict[str, Any] = {}
    for spec in p.opts["volume"]:
        bind, anon = rp.parse_volume(spec, cwd)
        if bind:
            binds.append(bind)
        elif anon:
            volumes[anon] = {}
    return binds, volumes, [rp.parse_mount(s) for s in p.opts["mount"]]


def build_ports(p: Parsed) -> tuple[dict[str, Any], dict[str, Any]]:
    """(ExposedPorts, PortBindings)."""
    exposed: dict[str, Any] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for spec in p.opts["publish"]:
        for port, binds in rp.parse_publish(spec).items():
            exposed[port] = {}
            bindings.setdefault(port, []).extend(binds)
    for spec in p.opts["expose"]:
        for port in rp.parse_expose(spec):
            exposed[port] = {}
    return exposed, bindings


def build_config(
    p: Parsed, env: Mapping[str, str], read_file: ReadFile, detach: bool
) -> dict[str, Any]:
    o = p.opts
    stdin, stdout, stderr = (False, False, False) if detach else attach_streams(p)
    exposed, _ = build_ports(p)
    _, volumes, _ = build_mounts(p, "/")
    config: dict[str, Any] = {
        "Hostname": o["hostname"],
        "Domainname": o["domainname"],
        "User": o["user"],
        "AttachStdin": stdin,
        "AttachStdout": stdout,
        "AttachStderr": stderr,
        "Tty": o["tty"],
        "OpenStdin": o["interactive"],
        "StdinOnce": False,
        "Env": build_env(p, env, read_file),
        "Cmd": p.args[1:] or None,
        "Image": p.args[0],
        "WorkingDir": o["workdir"],
        "Entrypoint": None,
        "Labels": build_labels(p, read_file),
    }
    if exposed:
        config["ExposedPorts"] = exposed
    if volumes:
        config["Volumes"] = volumes
    if "entrypoint" in p.given:
        config["Entrypoint"] = [o["entrypoint"]] if o["entrypoint"] else [""]
    if o["stop_signal"]:
        config["StopSignal"] = o["stop_signal"]
    if "stop_timeout" in p.given:
        config["StopTimeout"] = o["stop_timeout"]
    if (hc := build_healthcheck(p)) is not None:
        config["Healthcheck"] = hc
    if o["mac_address"]:
        config["MacAddress"] = o["mac_address"]
    return config


def _resources(o: dict[str, Any], given: set[str]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "CpuShares": o["cpu_shares"],
        "Memory": o["memory"],
        "NanoCpus": o["cpus"],
        "CgroupParent": o.get("cgroup_parent", ""),
        "BlkioWeight": o["blkio_weight"],
        "CpuPeriod": o["cpu_period"],
        "CpuQuota": o["cpu_quota"],
        "CpuRealtimePeriod": o["cpu_rt_period"],
        "CpuRealtimeRuntime": o["cpu_rt_runtime"],
        "CpusetCpus": o["cpuset_cpus"],
        "CpusetMems": o["cpuset_mems"],
        "MemoryReservation": o["memory_reservation"],
        "MemorySwap": o["memory_swap"],
    }
    if "pids_limit" in given:
        res["PidsLimit"] = o["pids_limit"]
    if o.get("memory_swappiness", -1) != -1:
        res["MemorySwappiness"] = o["memory_swappiness"]
    if o.get("oom_kill_disable"):
        res["OomKillDisable"] = True
    return res


def build_host_config(p: Parsed, cwd: str, auto_remove: bool) -> dict[str, Any]:
    o = p.opts
    binds, _, mounts = build_mounts(p, cwd)
    _, bindings = build_ports(p)
    network = o["network"] or o["net"] or "default"
    log_config = {"Type": o["log_driver"], "Config": rp.parse_kv_list(o["log_opt"])}
    host: dict[str, Any] = {
        "Binds": binds or None,
        "ContainerIDFile": o["cidfile"],
        "LogConfig": log_config,
        "NetworkMode": network,
        "PortBindings": bindings,
        "RestartPolicy": rp.parse_restart(o["restart"]),
        "AutoRemove": auto_remove,
        "VolumeDriver": o["volume_driver"],
        "VolumesFrom": o["volumes_from"] or None,
        "CapAdd": o["cap_add"] or None,
        "CapDrop": o["cap_drop"] or None,
        "CgroupnsMode": o["cgroupns"],
        "Dns": o["dns"],
        "DnsOptions": o["dns_option"],
        "DnsSearch": o["dns_search"],
        "ExtraHosts": o["add_host"] or None,
        "GroupAdd": o["group_add"] or None,
        "IpcMode": o["ipc"],
        "Links": o["link"] or None,
        "OomScoreAdj": o["oom_score_adj"],
        "PidMode": o["pid"],
        "Privileged": o["privileged"],
        "PublishAllPorts": o["publish_all"],
        "ReadonlyRootfs": o["read_only"],
        "SecurityOpt": o["security_opt"] or None,
        "UTSMode": o["uts"],
        "UsernsMode": o["userns"],
        "ShmSize": o["shm_size"],
        "Isolation": o["isolation"],
        **_resources(o, p.given),
        "Mounts": mounts or None,
    }
    _optional_host(p, host)
    return host


def _optional_host(p: Parsed, host: dict[str, Any]) -> None:
    o = p.opts
    if o["tmpfs"]:
        host["Tmpfs"] = rp.parse_tmpfs(o["tmpfs"])
    if o["sysctl"]:
        host["Sysctls"] = rp.parse_kv_list(o["sysctl"])
    if o["ulimit"]:
        host["Ulimits"] = [rp.parse_ulimit(u) for u in o["ulimit"]]
    if o["device"]:
        host["Devices"] = [rp.parse_device(d) for d in o["device"]]
    if o["device_cgroup_rule"]:
        host["DeviceCgroupRules"] = o["device_cgroup_rule"]
    if o["storage_opt"]:
        host["StorageOpt"] = rp.parse_kv_list(o["storage_opt"])
    if o["annotation"]:
        host["Annotations"] = rp.parse_kv_list(o["annotation"])
    if o["runtime"]:
        host["Runtime"] = o["runtime"]
    if "init" in p.given:
        host["Init"] = o["init"]


def build_networking(p: Parsed) -> dict[str, Any]:
    network = p.opts["network"] or p.opts["net"]
    if (
        not network
        or network in ("default", "bridge", "host", "none")
        or network.startswith("container:")
    ):
        return {"EndpointsConfig": {}}
    endpoint: dict[str, Any] = {}
    if p.opts["network_alias"]:
        endpoint["Aliases"] = p.opts["network_alias"]
    ipam = {k: v for k, v in (("IPv4Address", p.opts["ip"]), ("IPv6Address", p.opts["ip6"])) if v}
    if ipam:
        endpoint["IPAMConfig"] = ipam
    return {"EndpointsConfig": {network: endpoint}}


def build_create(
    p: Parsed,
    env: Mapping[str, str],
    read_file: ReadFile,
    cwd: str,
    detach: bool = False,
    auto_remove: bool = False,
) -> CreateRequest:
    """The whole create request for parsed `run`/`create` flags."""
    o = p.opts
    if o["publish_all"] is False and o["publish"] and (o["network"] or o["net"]) in ("host",):
        pass  # docker only warns about this combination
    body = build_config(p, env, read_file, detach)
    body["HostConfig"] = build_host_config(p, cwd, auto_remove)
    body["NetworkingConfig"] = build_networking(p)
    params = {"name": o["name"] or None, "platform": o["platform"] or None}
    return CreateRequest(params, body)
