"""Container domain values (snake_case inside; Docker's PascalCase lives only in the api package)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MountSpec:
    """One entry of HostConfig.Mounts (or a parsed Binds string)."""

    type: str  # bind | tmpfs | volume
    target: str
    source: str = ""
    read_only: bool = False
    propagation: str = ""
    tmpfs_size: int = 0
    tmpfs_mode: int = 0
    create_source: bool = False  # Binds create a missing host dir; Mounts refuse it


@dataclass(frozen=True)
class RestartPolicy:
    name: str = "no"  # no | always | unless-stopped | on-failure
    maximum_retry_count: int = 0


@dataclass(frozen=True)
class Resources:
    memory: int = 0
    memory_swap: int = 0
    memory_reservation: int = 0
    nano_cpus: int = 0
    cpu_shares: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    pids_limit: int | None = None


@dataclass(frozen=True)
class HealthConfig:
    test: tuple[str, ...] = ()
    interval: int = 0
    timeout: int = 0
    retries: int = 0
    start_period: int = 0
    start_interval: int = 0


@dataclass(frozen=True)
class ContainerConfig:
    """Docker's container Config: what to run (image defaults already merged in by the service)."""

    image: str = ""
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    env: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""
    hostname: str = ""
    domainname: str = ""
    tty: bool = False
    open_stdin: bool = False
    stdin_once: bool = False
    attach_stdin: bool = False
    attach_stdout: bool = False
    attach_stderr: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    stop_signal: str | None = None
    stop_timeout: int | None = None
    healthcheck: HealthConfig | None = None
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    network_disabled: bool = False
    on_build: tuple[str, ...] = ()
    shell: tuple[str, ...] = ()


@dataclass(frozen=True)
class HostSettings:
    """Docker's HostConfig: how to run it."""

    binds: tuple[str, ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    tmpfs: dict[str, str] = field(default_factory=dict)
    network_mode: str = "default"
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    readonly_rootfs: bool = False
    init: bool | None = None
    runtime: str = ""
    restart_policy: RestartPolicy = RestartPolicy()
    auto_remove: bool = False
    resources: Resources = Resources()
    port_bindings: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    publish_all_ports: bool = False
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    extra_hosts: tuple[str, ...] = ()
    shm_size: int = 0
    sysctls: dict[str, str] = field(default_factory=dict)
    log_config: dict[str, object] = field(
        default_factory=lambda: {"Type": "json-file", "Config": {}}
    )
    security_opt: tuple[str, ...] = ()  # "seccomp=unconfined", "seccomp=<profile json>", ...
    volumes_from: tuple[str, ...] = ()
    oom_kill_disable: bool = False
    console_size: tuple[int, int] = (0, 0)  # (height, width) of the client's terminal


CREATED, RUNNING, PAUSED, RESTARTING, REMOVING, EXITED, DEAD = (
    "created",
    "running",
    "paused",
    "restarting",
    "removing",
    "exited",
    "dead",
)


@dataclass
class ContainerState:
    """Observed state; changed only by the containers service's transition methods."""

    status: str = CREATED
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    oom_killed: bool = False
    started_at: float = 0.0
    finished_at: float = 0.0
    restart_count: int = 0
    health: str = ""
    stopped_by_user: bool = False


@dataclass
class Container:
    """A container record as persisted in state.db."""

    id: str
    name: str
    created: float
    image_id: str
    config: ContainerConfig
    host: HostSettings
    state: ContainerState = field(default_factory=ContainerState)
    runtime: str = "crun"
    path: str = ""
    args: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.state.status in (RUNNING, PAUSED, RESTARTING)


@dataclass(frozen=True)
class ExecConfig:
    cmd: tuple[str, ...]
    tty: bool = False
    attach_stdin: bool = False
    attach_stdout: bool = True
    attach_stderr: bool = True
    detach_keys: str = ""
    env: tuple[str, ...] = ()
    user: str = ""
    working_dir: str = ""
    privileged: bool = False


@dataclass
class ExecRecord:
    id: str
    container_id: str
    config: ExecConfig
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    can_remove: bool = False
