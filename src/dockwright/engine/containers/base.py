"""Shared state of the containers service: records, per-container locks, waiters, monitors."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockwright.engine.containers.ports import ImagesPort, RootfsPort, RuntimePort
from dockwright.engine.events import EventBus
from dockwright.store.containers import ContainerStore
from dockwright.types.config import DaemonConfig
from dockwright.types.container import Container

if TYPE_CHECKING:
    from dockwright.engine.networks import NetworkService

log = logging.getLogger("dockwright.containers")
CLEANUP_TIMEOUT = 30.0  # seconds shutdown waits for removals in flight


@dataclass
class Waiters:
    """Futures resolved on a container's next exit or on its removal, with (code, error)."""

    exit: list[asyncio.Future[tuple[int, str]]] = field(default_factory=list)
    removed: list[asyncio.Future[tuple[int, str]]] = field(default_factory=list)

    def resolve(self, which: str, code: int, error: str) -> None:
        futures = self.exit if which == "exit" else self.removed
        for fut in futures:
            if not fut.done():
                fut.set_result((code, error))
        futures.clear()


class ContainerBase:
    """Everything the service's parts share; the parts are mixed into ContainerService."""

    def __init__(
        self,
        config: DaemonConfig,
        store: ContainerStore,
        images: ImagesPort,
        rootfs: RootfsPort,
        runtimes: dict[str, RuntimePort],
        events: EventBus,
    ) -> None:
        self.config = config
        self.store = store
        self.images = images
        self.rootfs = rootfs
        self.runtimes = runtimes
        self.events = events
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._waiters: defaultdict[str, Waiters] = defaultdict(Waiters)
        self._monitors: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._cleanups: set[asyncio.Task[None]] = set()
        self._pending_attach: defaultdict[str, list[Any]] = defaultdict(list)
        # set by the exec service: the ids of a container's running execs; called on removal
        self.running_exec_ids: Callable[[str], list[str]] = lambda cid: []
        self.removal_hooks: list[Callable[[str], None]] = []
        self.network: NetworkService | None = None  # set by the engine; endpoints at start/exit

    def container_dir(self, cid: str) -> Path:
        return self.config.data_root / "containers" / cid

    def log_path(self, cid: str) -> Path:
        return self.container_dir(cid) / "ctr.log"

    def runtime_of(self, c: Container) -> RuntimePort:
        return self.runtimes[c.runtime]

    def get(self, ref: str) -> Container:
        return self.store.get(ref)

    def publish(self, c: Container, action: str, **extra: str) -> None:
        attributes = {"image": c.config.image, "name": c.name, **c.config.labels, **extra}
        self.events.publish("container", action, c.id, attributes)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A background task owned by the service; cancelled at shutdown."""
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._background.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    # -- provided by the other parts of ContainerService (declared for the type checker) --

    async def connect_pending_attachers(self, c: Container) -> None:
        raise NotImplementedError

    def fail_pending_attachers(self, cid: str) -> None:
        raise NotImplementedError

    async def remove(self, ref: str, *, force: bool, volumes: bool) -> None:
        raise NotImplementedError

    async def destroy(self, c: Container) -> None:
        raise NotImplementedError

    async def apply_resources(self, c: Container) -> None:
        raise NotImplementedError

    async def kill_and_reap(self, c: Container) -> None:
        raise NotImplementedError

    def exit_future(self, cid: str) -> asyncio.Future[tuple[int, str]]:
        raise NotImplementedError

    def sweep_orphans(self) -> list[str]:
        raise NotImplementedError

    def own_cleanup(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A cleanup that must finish even when the daemon shuts down meanwhile."""
        task = asyncio.ensure_future(coro)
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        return task

    async def shutdown(self) -> None:
        """Finish cleanups in flight, then stop watching containers; they keep running under
        conmon (live restore)."""
        if self._cleanups:
            await asyncio.wait(list(self._cleanups), timeout=CLEANUP_TIMEOUT)
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
