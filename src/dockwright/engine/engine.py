"""The composition root: builds every store, driver and service of one daemon."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from dockwright.engine.builds import BuildService
from dockwright.engine.containers.ports import RuntimePort
from dockwright.engine.containers.service import ContainerService
from dockwright.engine.df import DiskUsageService
from dockwright.engine.events import EventBus
from dockwright.engine.execs import ExecService
from dockwright.engine.images import ImageService
from dockwright.engine.networks import NetworkService
from dockwright.engine.system import SystemService
from dockwright.engine.wiring import LogReader, OverlayRootfs
from dockwright.errors import NotFound, SystemError_
from dockwright.kernel.cgroups import prepare_hybrid_for_crun, remove_cgroup
from dockwright.kernel.pinned import pin_read_only
from dockwright.kernel.pinned import release as release_pinned
from dockwright.runtime.conmon import ConmonRuntime
from dockwright.store.containers import ContainerStore
from dockwright.store.db import Database
from dockwright.types.config import DaemonConfig

log = logging.getLogger("dockwright.engine")


@dataclass
class _ImageCount:
    images: ImageService

    def count(self) -> int:
        return len(self.images.store.all())


class Engine:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        root = config.data_root
        for sub in ("", "containers"):
            (root / sub).mkdir(parents=True, exist_ok=True, mode=0o710)
        config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.db = Database(root / "state.db")
        self.events = EventBus()
        self.images = ImageService(
            root,
            self.db,
            self.events,
            insecure_registries=config.insecure_registries,
            registry_mirrors=config.registry_mirrors,
            max_concurrent_transfers=config.max_concurrent_downloads,
        )
        runtimes: dict[str, RuntimePort] = {
            name: ConmonRuntime(
                _pinned(path, config.state_dir / "bin" / name), config.state_dir, name=name
            )  # fmt: skip
            for name, path in config.runtimes.items()
            if os.path.exists(path)
        }
        self.containers = ContainerService(
            config,
            ContainerStore(self.db),
            self.images,
            OverlayRootfs(self.images.snapshots),
            runtimes,
            self.events,
        )
        self.containers.logs_reader = LogReader()
        self.networks = NetworkService(config, self.db, self.events)
        self.containers.network = self.networks
        self.networks.container_lookup = self.containers.get
        self.networks.container_dir = self.containers.container_dir
        self.containers.removal_hooks.append(self.networks.forget)
        self.images.images_in_use = self.containers.images_in_use
        self.images.containers = self.containers  # commit pauses and reads containers
        self.execs = ExecService(self.containers)
        self.disk_usage = DiskUsageService(self.images, self.containers)
        self.builds = BuildService(self.containers, self.images, self.db, root / "builder")
        self.disk_usage.build_cache = self.builds.cache
        self.system = SystemService(
            config, self.containers, _ImageCount(self.images), _daemon_id(root)
        )

    @classmethod
    async def open(cls, config: DaemonConfig) -> Engine:
        if (
            "crun" in os.path.basename(config.runtime_path(config.default_runtime))
            or "crun" in config.runtimes
        ):
            moved = prepare_hybrid_for_crun()
            if moved:
                log.info("bound cgroup controllers %s to v1 hierarchies for crun", moved)
        engine = cls(config)
        engine.images.recover()
        await engine.networks.open(engine._running)
        await engine.containers.recover()
        return engine

    def _running(self, cid: str) -> bool:
        try:
            return self.containers.get(cid).running
        except NotFound:
            return False

    async def close(self) -> None:
        await self.builds.shutdown()  # finished builds' scratch directories being deleted
        await self.containers.shutdown()
        await self.networks.close(any(c.running for c in self.containers.store.all()))
        if not any(c.running for c in self.containers.store.all()):
            remove_cgroup(f"/{self.config.cgroup_name}")  # this daemon's parent, now empty
            for name in self.config.runtimes:  # conmons of running containers still use them
                release_pinned(self.config.state_dir / "bin" / name)
        self.db.close()


def _pinned(path: str, target: Path) -> str:
    """The runtime from a read-only bind mount of itself (kernel/pinned.py says why); the
    binary itself when that cannot be made."""
    try:
        return pin_read_only(path, target)
    except (OSError, SystemError_) as exc:
        log.warning("running %s without a read-only mount of it: %s", path, exc)
        return path


def _daemon_id(root: Path) -> str:
    path = root / "engine-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = secrets.token_hex(16)
        path.write_text(value + "\n")
        return value
