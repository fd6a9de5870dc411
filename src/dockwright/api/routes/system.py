"""`/_ping`, `/version` and `/info`: the daemon describing itself in Docker's JSON shapes.

The data come from a narrow `SystemBackend`; the functions here only translate the frozen
values of `dockwright.types.system` into the v1.45 swagger's `SystemVersion` and `SystemInfo`.
"""

from __future__ import annotations

from typing import Any, Protocol

from dockwright.api.http import TEXT, Request, Response, json_response
from dockwright.api.router import Route
from dockwright.types.system import SystemInfo, VersionInfo

PING_HEADERS = {
    "Builder-Version": "1",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
}


class SystemBackend(Protocol):
    async def version(self) -> VersionInfo: ...

    async def info(self) -> SystemInfo: ...


def version_json(v: VersionInfo) -> dict[str, Any]:
    """Docker's SystemVersion; Experimental is omitted when false, as dockerd does."""
    details = {
        "ApiVersion": v.api_version,
        "Arch": v.arch,
        "BuildTime": v.build_time,
        "Experimental": "true" if v.experimental else "false",
        "GitCommit": v.git_commit,
        "GoVersion": v.go_version,
        "KernelVersion": v.kernel_version,
        "MinAPIVersion": v.min_api_version,
        "Os": v.os,
    }
    components = [{"Name": "Engine", "Version": v.version, "Details": details}]
    components += [
        {"Name": c.name, "Version": c.version, "Details": dict(c.details)}
        for c in v.extra_components
    ]
    out: dict[str, Any] = {
        "Platform": {"Name": v.platform_name},
        "Components": components,
        "Version": v.version,
        "ApiVersion": v.api_version,
        "MinAPIVersion": v.min_api_version,
        "GitCommit": v.git_commit,
        "GoVersion": v.go_version,
        "Os": v.os,
        "Arch": v.arch,
        "KernelVersion": v.kernel_version,
        "BuildTime": v.build_time,
    }
    if v.experimental:
        out["Experimental"] = True
    return out


def _registry_json(i: SystemInfo) -> dict[str, Any]:
    return {
        "AllowNondistributableArtifactsCIDRs": None,
        "AllowNondistributableArtifactsHostnames": None,
        "InsecureRegistryCIDRs": list(i.insecure_registry_cidrs),
        "IndexConfigs": {
            r.name: {
                "Name": r.name,
                "Mirrors": list(r.mirrors),
                "Secure": r.secure,
                "Official": r.official,
            }
            for r in i.registry_indexes
        },
        "Mirrors": list(i.registry_mirrors),
    }


def _swarm_json(i: SystemInfo) -> dict[str, Any]:
    s = i.swarm
    return {
        "NodeID": s.node_id,
        "NodeAddr": s.node_addr,
        "LocalNodeState": s.local_node_state,
        "ControlAvailable": s.control_available,
        "Error": s.error,
        "RemoteManagers": None,
    }


def _counts_json(i: SystemInfo) -> dict[str, Any]:
    return {
        "ID": i.id,
        "Containers": i.containers,
        "ContainersRunning": i.containers_running,
        "ContainersPaused": i.containers_paused,
        "ContainersStopped": i.containers_stopped,
        "Images": i.images,
        "Driver": i.driver,
        "DriverStatus": [list(pair) for pair in i.driver_status],
        "Plugins": {
            "Volume": list(i.volume_plugins),
            "Network": list(i.network_plugins),
            "Authorization": None,
            "Log": list(i.log_plugins),
        },
    }


def _features_json(i: SystemInfo) -> dict[str, Any]:
    return {
        "MemoryLimit": i.memory_limit,
        "SwapLimit": i.swap_limit,
        "CpuCfsPeriod": i.cpu_cfs_period,
        "CpuCfsQuota": i.cpu_cfs_quota,
        "CPUShares": i.cpu_shares,
        "CPUSet": i.cpu_set,
        "PidsLimit": i.pids_limit,
        "IPv4Forwarding": i.ipv4_forwarding,
        "BridgeNfIptables": i.bridge_nf_iptables,
        "BridgeNfIp6tables": i.bridge_nf_ip6tables,
        "Debug": i.debug,
        "NFd": i.nfd,
        "OomKillDisable": i.oom_kill_disable,
        "NGoroutines": i.ngoroutines,
        "SystemTime": i.system_time,
        "LoggingDriver": i.logging_driver,
        "CgroupDriver": i.cgroup_driver,
        "CgroupVersion": i.cgroup_version,
        "NEventsListener": i.nevents_listener,
    }


def _host_json(i: SystemInfo) -> dict[str, Any]:
    return {
        "KernelVersion": i.kernel_version,
        "OperatingSystem": i.operating_system,
        "OSVersion": i.os_version,
        "OSType": i.os_type,
        "Architecture": i.architecture,
        "IndexServerAddress": i.index_server_address,
        "RegistryConfig": _registry_json(i),
        "NCPU": i.ncpu,
        "MemTotal": i.mem_total,
        "GenericResources": None,
        "DockerRootDir": i.docker_root_dir,
        "HttpProxy": i.http_proxy,
        "HttpsProxy": i.https_proxy,
        "NoProxy": i.no_proxy,
        "Name": i.name,
        "Labels": list(i.labels),
        "ExperimentalBuild": i.experimental_build,
        "ServerVersion": i.server_version,
    }


def _engine_json(i: SystemInfo) -> dict[str, Any]:
    return {
        "Runtimes": {
            r.name: {"path": r.path, **({"runtimeArgs": list(r.args)} if r.args else {})}
            for r in i.runtimes
        },
        "DefaultRuntime": i.default_runtime,
        "Swarm": _swarm_json(i),
        "LiveRestoreEnabled": i.live_restore_enabled,
        "Isolation": "",
        "InitBinary": i.init_binary,
        "ContainerdCommit": {"ID": i.monitor_commit, "Expected": i.monitor_commit},
        "RuncCommit": {"ID": i.runtime_commit, "Expected": i.runtime_commit},
        "InitCommit": {"ID": i.init_commit, "Expected": i.init_commit},
        "SecurityOptions": list(i.security_options),
        "Warnings": list(i.warnings),
        "CDISpecDirs": list(i.cdi_spec_dirs),
    }


def info_json(i: SystemInfo) -> dict[str, Any]:
    """Docker's SystemInfo, every field of the v1.45 schema that applies to Linux."""
    return {**_counts_json(i), **_features_json(i), **_host_json(i), **_engine_json(i)}


async def ping(req: Request) -> Response:
    """Answered without touching the engine: clients ping before every command."""
    body = b"" if req.method == "HEAD" else b"OK"
    return Response(200, body, TEXT, PING_HEADERS)


def system_routes(backend: SystemBackend) -> list[Route]:
    async def version(req: Request) -> Response:
        return json_response(version_json(await backend.version()))

    async def info(req: Request) -> Response:
        return json_response(info_json(await backend.info()))

    return [
        Route("GET", "/_ping", ping),
        Route("HEAD", "/_ping", ping),
        Route("GET", "/version", version),
        Route("GET", "/info", info),
    ]
