"""Exec instances: processes started inside running containers (`docker exec`).

Like Docker, exec records live in memory only; they disappear with their container.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from dockwright.engine.containers.ports import ExecHandle, ExecRuntimePort
from dockwright.engine.containers.service import ContainerService
from dockwright.engine.containers.setup import exec_process
from dockwright.engine.containers.streams import AttachSession
from dockwright.errors import Conflict, InvalidParameter, NotFound
from dockwright.types.container import PAUSED, RUNNING, Container, ExecConfig, ExecRecord


@dataclass
class _Exec:
    record: ExecRecord
    handle: ExecHandle | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class ExecService:
    def __init__(self, containers: ContainerService) -> None:
        self.containers = containers
        self._execs: dict[str, _Exec] = {}
        self._by_container: dict[str, list[str]] = {}  # exec ids per container, oldest first
        containers.running_exec_ids = self.running_ids
        containers.removal_hooks.append(self.forget_container)

    def ids_of(self, cid: str) -> list[str]:
        return list(self._by_container.get(cid, ()))

    def running_ids(self, cid: str) -> list[str]:
        """What inspect shows as ExecIDs: execs still running (dockerd drops finished ones)."""
        return [i for i in self.ids_of(cid) if self._execs[i].record.running]

    def create(self, ref: str, config: ExecConfig) -> str:
        c = self._running(ref)
        if not config.cmd:
            raise InvalidParameter("No exec command specified")
        eid = secrets.token_hex(32)
        self._execs[eid] = _Exec(ExecRecord(id=eid, container_id=c.id, config=config))
        self._by_container.setdefault(c.id, []).append(eid)
        self.containers.publish(c, "exec_create: " + " ".join(config.cmd), execID=eid)
        return eid

    def _running(self, ref: str) -> Container:
        c = self.containers.get(ref)
        if c.state.status == PAUSED:
            raise Conflict(f"container {c.id} is paused, unpause the container before exec")
        if c.state.status != RUNNING:
            raise Conflict(f"container {c.id} is not running")
        return c

    def get(self, eid: str) -> tuple[ExecRecord, Container | None]:
        e = self._execs.get(eid)
        if e is None:
            raise NotFound(f"No such exec instance: {eid}")
        try:
            c = self.containers.get(e.record.container_id)
        except NotFound:
            c = None
        return e.record, c

    def startable(self, eid: str) -> ExecRecord:
        """The exec's record if it can be started now (checked before the API hijacks)."""
        e = self._execs.get(eid)
        if e is None:
            raise NotFound(f"No such exec instance: {eid}")
        if e.record.running or e.record.exit_code is not None:
            state = "has already been started" if e.record.running else "has already run"
            raise Conflict(f"exec {eid} {state}")
        self._running(e.record.container_id)
        return e.record

    async def start(self, eid: str, *, detach: bool) -> tuple[ExecRecord, AttachSession | None]:
        """Start the process; returns an attach session unless detached.

        A process that cannot be started records Docker's exit code (126/127) before the
        error is raised, so a client inspecting the exec afterwards sees it.
        """
        self.startable(eid)
        e = self._execs[eid]
        c = self._running(e.record.container_id)
        cfg = e.record.config
        runtime: ExecRuntimePort = self.containers.runtime_of(c)  # type: ignore[assignment]
        try:
            process = await exec_process(self.containers, c, cfg)
            e.handle = await runtime.exec(
                c.id, process, tty=cfg.tty, stdin=cfg.attach_stdin, detach=detach
            )
        except Exception as exc:
            e.record.exit_code = int(getattr(exc, "exit_code", 126))
            raise
        e.record.running, e.record.pid = True, e.handle.pid
        self.containers.publish(c, "exec_start: " + " ".join(cfg.cmd), execID=eid)
        self.containers.spawn(self._reap(e, c), f"exec-{eid[:12]}")
        if detach:
            return e.record, None
        want = frozenset(k for k, on in ((1, cfg.attach_stdout), (2, cfg.attach_stderr)) if on)
        return e.record, AttachSession.of(e.handle, cfg.tty, want)

    async def _reap(self, e: _Exec, c: Container) -> None:
        assert e.handle is not None
        code = await e.handle.wait()
        if (
            e.handle is not None
            and not e.record.config.attach_stdout
            and not e.record.config.attach_stderr
        ):
            await e.handle.close()
        e.record.running, e.record.exit_code = False, code
        e.done.set()
        self.containers.publish(c, "exec_die", execID=e.record.id, exitCode=str(code))

    async def wait_done(self, eid: str, timeout: float = 5.0) -> None:
        """Let the exit code land before a client that saw EOF asks for it."""
        e = self._execs.get(eid)
        if e is not None and e.handle is not None:
            try:
                await asyncio.wait_for(e.done.wait(), timeout)
            except TimeoutError:
                pass

    async def resize(self, eid: str, height: int, width: int) -> None:
        e = self._execs.get(eid)
        if e is None:
            raise NotFound(f"No such exec instance: {eid}")
        if e.handle is None or not e.record.running:
            raise Conflict(f"exec {eid} is not running")
        await e.handle.resize(height, width)

    def forget_container(self, cid: str) -> None:
        for eid in self._by_container.pop(cid, ()):
            del self._execs[eid]
