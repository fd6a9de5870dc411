"""The daemon describing itself: facts for `/version` and `/info`."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path
from typing import Protocol

from dockwright import __version__
from dockwright.types.config import DaemonConfig
from dockwright.types.system import ComponentVersion, RuntimeInfo, SystemInfo, VersionInfo


class Counts(Protocol):
    def count_by_state(self) -> dict[str, int]: ...


class ImageCount(Protocol):
    def count(self) -> int: ...


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "Linux"


def _mem_total() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


class SystemService:
    def __init__(
        self, config: DaemonConfig, containers: Counts, images: ImageCount, daemon_id: str
    ) -> None:
        self.config = config
        self.containers = containers
        self.images = images
        self.daemon_id = daemon_id
        self._os = _os_name()

    async def version(self) -> VersionInfo:
        return VersionInfo(
            kernel_version=platform.release(),
            git_commit="dockwright",
            extra_components=(ComponentVersion("dockwright", __version__),),
        )

    async def info(self) -> SystemInfo:
        counts = self.containers.count_by_state()
        return SystemInfo(
            id=self.daemon_id,
            name=socket.gethostname(),
            containers=sum(counts.values()),
            containers_running=counts["running"],
            containers_paused=counts["paused"],
            containers_stopped=counts["stopped"],
            images=self.images.count(),
            docker_root_dir=str(self.config.data_root),
            runtimes=tuple(RuntimeInfo(n, p) for n, p in sorted(self.config.runtimes.items())),
            default_runtime=self.config.default_runtime,
            kernel_version=platform.release(),
            operating_system=self._os,
            ncpu=os.cpu_count() or 1,
            mem_total=_mem_total(),
            debug=self.config.debug,
            init_binary="docker-init",
            security_options=("name=seccomp,profile=builtin",),
            logging_driver=self.config.log_driver,
        )
