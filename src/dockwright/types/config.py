"""Daemon configuration: every host-global name derives from it, so several daemons can coexist."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dockwright.errors import InvalidParameter

DEFAULT_DATA_ROOT = Path("/var/lib/dockwright")
DEFAULT_HOST = "unix:///run/dockwright.sock"
DEFAULT_RUNTIMES = {"crun": "/usr/bin/crun", "runc": "/usr/sbin/runc"}


@dataclass(frozen=True)
class TlsConfig:
    cert: Path
    key: Path
    ca: Path | None = None
    verify: bool = False


@dataclass(frozen=True)
class DaemonConfig:
    data_root: Path = DEFAULT_DATA_ROOT
    hosts: tuple[str, ...] = (DEFAULT_HOST,)
    default_runtime: str = "crun"
    runtimes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RUNTIMES))
    exec_root: Path | None = None
    cgroup_parent: str | None = None
    debug: bool = False
    tls: TlsConfig | None = None
    insecure_registries: tuple[str, ...] = ()
    registry_mirrors: tuple[str, ...] = ()
    max_concurrent_downloads: int = 3
    # the default network: bridge device and gateway/prefix (Docker's --bridge, --bip); empty
    # means derived from the instance (see dockwright.network.naming) and a free subnet
    bridge: str = ""
    bip: str = ""
    # set net.ipv4.ip_forward=1 at start so containers reach beyond the host (Docker's
    # --ip-forward); off by default here: published ports and container-to-container traffic
    # on one bridge work without it
    ip_forward: bool = False
    # containers' default log driver and its options (daemon.json log-driver, log-opts)
    log_driver: str = "json-file"
    log_opts: dict[str, str] = field(default_factory=dict)
    # the default network: dual-stack with --ipv6 (on --fixed-cidr-v6, else a unique-local
    # /64), and whether its containers may talk to each other (--icc)
    ipv6: bool = False
    fixed_cidr_v6: str = ""
    icc: bool = True

    @property
    def instance(self) -> str:
        """A short name unique to this data root; '' for the default daemon."""
        if self.data_root == DEFAULT_DATA_ROOT:
            return ""
        return hashlib.sha256(str(self.data_root).encode()).hexdigest()[:8]

    @property
    def state_dir(self) -> Path:
        """Runtime state under /run (conmon sockets, runtime roots, pid files)."""
        if self.exec_root is not None:
            return self.exec_root
        suffix = f"-{self.instance}" if self.instance else ""
        return Path(f"/run/dockwright{suffix}")

    @property
    def cgroup_name(self) -> str:
        """The cgroup directory (under each controller) that holds this daemon's containers."""
        if self.cgroup_parent:
            return self.cgroup_parent.strip("/")
        suffix = f"-{self.instance}" if self.instance else ""
        return f"dockwright{suffix}"

    def runtime_path(self, name: str) -> str:
        try:
            return self.runtimes[name]
        except KeyError:
            raise InvalidParameter(f"unknown runtime specified {name}") from None


_FILE_KEYS = {
    "data-root": ("data_root", Path),
    "hosts": ("hosts", tuple),
    "default-runtime": ("default_runtime", str),
    "exec-root": ("exec_root", Path),
    "cgroup-parent": ("cgroup_parent", str),
    "debug": ("debug", bool),
    "bridge": ("bridge", str),
    "bip": ("bip", str),
    "ip-forward": ("ip_forward", bool),
    "log-driver": ("log_driver", str),
    "log-opts": ("log_opts", dict),
    "ipv6": ("ipv6", bool),
    "fixed-cidr-v6": ("fixed_cidr_v6", str),
    "icc": ("icc", bool),
}


def load_config_file(path: Path, base: DaemonConfig) -> DaemonConfig:
    """Read a daemon.json (Docker's key names) on top of `base`."""
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidParameter(f"cannot read config file {path}: {exc}") from None
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "runtimes":
            runtimes = dict(base.runtimes)
            runtimes.update({k: v["path"] for k, v in value.items()})
            changes["runtimes"] = runtimes
        elif key in _FILE_KEYS:
            name, kind = _FILE_KEYS[key]
            changes[name] = kind(value)
        else:
            raise InvalidParameter(f"unknown key in config file {path}: {key}")
    return replace(base, **changes)
