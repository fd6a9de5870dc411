"""Values the runtime driver takes and returns (frozen, snake_case; no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from dockwright.kernel.caps import CAPABILITIES
from dockwright.kernel.devices import DeviceNode
from dockwright.types.container import Resources as ResourceLimits

__all__ = [
    "BindMount",
    "DeviceNode",
    "ExitStatus",
    "RecoveredState",
    "ResolvedUser",
    "ResourceLimits",
    "RunSpec",
    "TmpfsMount",
]

DEFAULT_SHM_SIZE = 64 * 1024 * 1024


@dataclass(frozen=True)
class BindMount:
    """A host path bind-mounted into the container (Docker's Binds / Mounts type=bind)."""

    source: str
    destination: str
    readonly: bool = False
    propagation: str = "rprivate"  # private|rprivate|shared|rshared|slave|rslave
    recursive: bool = True


@dataclass(frozen=True)
class TmpfsMount:
    """A tmpfs at `destination`; size/mode as in Docker's TmpfsOptions, `options` as in --tmpfs."""

    destination: str
    size_bytes: int = 0
    mode: int = 0
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSpec:
    """Everything `build_spec` needs to write a container's OCI config.json.

    `network` is "new" (own namespace; also Docker's "none"), "host", or the path of an
    existing network namespace (e.g. /run/netns/x) to join. The hosts/hostname/resolv.conf
    paths are host files the caller prepared; None leaves the image's own file in place.
    `available_capabilities` is what "all capabilities" means on this host (privileged, ALL):
    pass kernel.caps.bounding_capabilities().
    """

    rootfs: str
    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    tty: bool = False
    console_size: tuple[int, int] | None = None  # (height, width)
    hostname: str = ""
    domainname: str = ""
    network: str = "new"
    readonly_rootfs: bool = False
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    masked_paths: tuple[str, ...] | None = None  # None: Docker's defaults
    readonly_paths: tuple[str, ...] | None = None  # None: Docker's defaults
    binds: tuple[BindMount, ...] = ()
    tmpfs: tuple[TmpfsMount, ...] = ()
    hosts_path: str | None = None
    hostname_path: str | None = None
    resolv_conf_path: str | None = None
    init_path: str | None = None  # a static init (tini-static) run as /sbin/docker-init
    shm_size: int = DEFAULT_SHM_SIZE
    resources: ResourceLimits = ResourceLimits()
    cgroups_path: str = ""
    sysctls: Mapping[str, str] = field(default_factory=dict)
    devices: tuple[DeviceNode, ...] = ()  # extra nodes; privileged: kernel.devices.host_devices()
    device_cgroup_rules: tuple[str, ...] = ()  # Docker's "c 1:3 rwm"
    oom_score_adj: int = 0
    no_new_privileges: bool = False
    available_capabilities: tuple[str, ...] = CAPABILITIES
    # None or "unconfined": no syscall filter; "builtin": Docker's default profile; else the
    # JSON of a custom profile in Docker's format (see runtime.seccomp)
    seccomp: str | None = None


@dataclass(frozen=True)
class ResolvedUser:
    """A process identity as resolved from the image's /etc/passwd and /etc/group."""

    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    home: str = "/"


@dataclass(frozen=True)
class ExitStatus:
    """How a container's process ended: `code` is its exit code or 128+signal.

    `code` 255 with a non-empty `error` means the monitor vanished and the real status is lost.
    `exited_at` is Unix time in seconds.
    """

    code: int
    oom_killed: bool = False
    exited_at: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class RecoveredState:
    """What a restarted daemon finds of a container it had started.

    status: "created" | "running" | "paused" (monitor alive), "exited" (`exit` says how,
    possibly while the daemon was down), or "gone" (no trace: never created or host rebooted).
    """

    status: Literal["created", "running", "paused", "exited", "gone"]
    pid: int | None = None
    conmon_pid: int | None = None
    exit: ExitStatus | None = None
