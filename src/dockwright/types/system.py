"""What the daemon reports about itself (`/version`, `/info`), as plain frozen values.

The engine fills these; `dockwright.api.routes.system` turns them into Docker's JSON
(`SystemVersion`, `SystemInfo` in the v1.45 swagger). Defaults are what this engine is, so
a backend sets only what it measures (counts, kernel, memory, host name, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

API_VERSION = "1.45"
MIN_API_VERSION = "1.24"
# Clients compare ApiVersion, but some tools parse Version as semver: report a plain release.
ENGINE_VERSION = "27.0.0"
PRODUCT = "dockwright"


def parse_api_version(text: str) -> tuple[int, int]:
    """(1, 45) for "1.45"; ValueError for anything else."""
    major, _, minor = text.partition(".")
    if not major.isdigit() or not minor.isdigit():
        raise ValueError(f"invalid api version {text!r}")
    return int(major), int(minor)


@dataclass(frozen=True)
class ComponentVersion:
    """One entry of Version's Components (the engine itself, or a helper such as crun)."""

    name: str
    version: str
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionInfo:
    os: str = "linux"
    arch: str = "amd64"
    kernel_version: str = ""
    version: str = ENGINE_VERSION
    api_version: str = API_VERSION
    min_api_version: str = MIN_API_VERSION
    git_commit: str = ""
    go_version: str = "n/a"
    build_time: str = ""
    experimental: bool = False
    platform_name: str = PRODUCT
    extra_components: tuple[ComponentVersion, ...] = ()


@dataclass(frozen=True)
class RuntimeInfo:
    """An OCI runtime the daemon can use (`docker info` Runtimes)."""

    name: str
    path: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class SwarmState:
    local_node_state: str = "inactive"
    node_id: str = ""
    node_addr: str = ""
    control_available: bool = False
    error: str = ""


@dataclass(frozen=True)
class RegistryIndex:
    name: str
    mirrors: tuple[str, ...] = ()
    secure: bool = True
    official: bool = False


@dataclass(frozen=True)
class SystemInfo:
    id: str = ""
    name: str = ""
    containers: int = 0
    containers_running: int = 0
    containers_paused: int = 0
    containers_stopped: int = 0
    images: int = 0
    driver: str = "overlay2"
    driver_status: tuple[tuple[str, str], ...] = ()
    docker_root_dir: str = "/var/lib/dockwright"
    runtimes: tuple[RuntimeInfo, ...] = ()
    default_runtime: str = "crun"
    cgroup_driver: str = "cgroupfs"
    cgroup_version: str = "1"
    kernel_version: str = ""
    operating_system: str = ""
    os_version: str = ""
    os_type: str = "linux"
    architecture: str = "x86_64"
    ncpu: int = 1
    mem_total: int = 0
    server_version: str = ENGINE_VERSION
    logging_driver: str = "json-file"
    security_options: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    volume_plugins: tuple[str, ...] = ("local",)
    network_plugins: tuple[str, ...] = ("bridge", "host", "null")
    log_plugins: tuple[str, ...] = ("json-file",)
    memory_limit: bool = True
    swap_limit: bool = True
    cpu_cfs_period: bool = True
    cpu_cfs_quota: bool = True
    cpu_shares: bool = True
    cpu_set: bool = True
    pids_limit: bool = True
    oom_kill_disable: bool = True
    ipv4_forwarding: bool = True
    bridge_nf_iptables: bool = False
    bridge_nf_ip6tables: bool = False
    debug: bool = False
    nfd: int = 0
    ngoroutines: int = 0
    nevents_listener: int = 0
    system_time: str = ""
    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""
    experimental_build: bool = False
    live_restore_enabled: bool = True
    init_binary: str = ""
    index_server_address: str = "https://index.docker.io/v1/"
    insecure_registry_cidrs: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    registry_indexes: tuple[RegistryIndex, ...] = (
        RegistryIndex("docker.io", secure=True, official=True),
    )
    registry_mirrors: tuple[str, ...] = ()
    swarm: SwarmState = SwarmState()
    runtime_commit: str = ""
    monitor_commit: str = ""
    init_commit: str = ""
    cdi_spec_dirs: tuple[str, ...] = ()
