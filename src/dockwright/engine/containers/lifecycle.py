"""Start, stop, kill, pause, wait, and what happens when a container's process exits.

State moves forward only: created → running ⇄ paused → exited → (restarting → running) → removing.
Every transition happens under the container's lock, in this module.
"""

from __future__ import annotations

import asyncio
import signal as signals
import time
from typing import TYPE_CHECKING

from dockwright.engine.containers.base import ContainerBase, log
from dockwright.engine.containers.ports import ExitStatus
from dockwright.engine.containers.setup import prepare_start
from dockwright.errors import Conflict, InvalidParameter, NotFound, NotModified
from dockwright.runtime.log_options import RotationPolicy, rotation_policy
from dockwright.runtime.log_rotation import keep_rotated
from dockwright.types.container import (
    CREATED,
    DEAD,
    EXITED,
    PAUSED,
    REMOVING,
    RESTARTING,
    RUNNING,
    Container,
)

if TYPE_CHECKING:
    from dockwright.engine.networks import Endpoint

DEFAULT_STOP_TIMEOUT = 10
MAX_RESTART_DELAY = 60.0
KILL_GRACE = 10.0  # seconds a SIGKILLed container may take to be reaped


def parse_signal(value: str | int | None, default: int) -> int:
    """`SIGTERM`, `TERM`, `15` → 15, with Docker's error text for junk."""
    if value in (None, ""):
        return default
    if isinstance(value, int) or str(value).isdigit():
        number = int(value)
        if not 0 < number < 65:
            raise InvalidParameter(f"Invalid signal: {value}")
        return number
    name = str(value).upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return int(signals.Signals[name])
    except KeyError:
        raise InvalidParameter(f"Invalid signal: {value}") from None


class LifecycleMixin(ContainerBase):
    async def start(self, ref: str) -> None:
        c = self.get(ref)
        async with self._locks[c.id]:
            c = self.get(c.id)
            if c.state.status in (RUNNING, PAUSED, RESTARTING):
                raise NotModified("container already started")
            if c.state.status in (REMOVING, DEAD):
                raise Conflict(f"container {c.id[:12]} is marked for removal and cannot be started")
            try:
                await self._start_locked(c)
            except Exception:
                if c.host.auto_remove:  # as dockerd: `run --rm` waits for the removal
                    self.spawn(self._remove_quietly(c.id), f"autoremove-{c.id[:12]}")
                raise

    async def _remove_quietly(self, cid: str) -> None:
        try:
            await self.remove(cid, force=True, volumes=True)
        except NotFound:
            pass

    async def _start_locked(self, c: Container) -> None:
        """Networks are plumbed into a namespace made ahead while the runtime creates the
        container in it (the two are the slow parts of a start and do not depend on each other)."""
        runtime = self.runtime_of(c)
        joining: asyncio.Future[list[Endpoint]] | None = None
        try:
            netns = await self.network.sandbox(c) if self.network is not None else None
            plan = await prepare_start(self, c, netns)
            if netns is not None and self.network is not None:
                joining = asyncio.ensure_future(self.network.join(c, netns))
            pid = await runtime.create(
                c.id,
                self.container_dir(c.id),
                plan.spec,
                tty=c.config.tty,
                stdin=c.config.open_stdin,
                stdin_once=c.config.stdin_once,
                log_path=None if c.host.log_config.get("Type") == "none" else self.log_path(c.id),
            )
            if self.network is not None:
                eps = await joining if joining is not None else []
                await self.network.activate(c, pid, eps, self.container_dir(c.id) / "hosts")
            await self.connect_pending_attachers(c)
            await runtime.start(c.id)
        except BaseException as exc:
            if joining is not None:  # let it finish: what it made is released with the rest
                await asyncio.gather(joining, return_exceptions=True)
            await self._undo_start(c, exc)
            raise
        c.state.status, c.state.pid = RUNNING, pid
        c.state.started_at, c.state.error = time.time(), ""
        c.state.exit_code, c.state.oom_killed, c.state.stopped_by_user = 0, False, False
        self.store.save(c)
        self.publish(c, "start")
        self.watch(c)

    async def _undo_start(self, c: Container, exc: BaseException) -> None:
        """A failed start leaves no process, mount or runtime state; the record says why."""
        try:
            await self.runtime_of(c).delete(c.id, force=True)
        except Exception:
            pass
        if self.network is not None:
            await self.network.detach(c.id)
        await asyncio.to_thread(self.rootfs.unmount, c.id)
        self.fail_pending_attachers(c.id)
        code = int(getattr(exc, "exit_code", 128))
        c.state.status = CREATED if c.state.status == CREATED else EXITED
        c.state.exit_code, c.state.error = code, str(exc)
        c.state.finished_at = time.time()
        self.store.save(c)
        # next-exit waiters keep waiting, as with dockerd: the process never ran, so it never exited

    def watch(self, c: Container) -> None:
        """Own a monitor task that records the exit of `c`'s current process."""
        rotation = rotation_policy(c.host.log_config)
        task = self.spawn(self._monitor(c.id, c.runtime, rotation), f"monitor-{c.id[:12]}")
        self._monitors[c.id] = task

    async def _monitor(self, cid: str, runtime_name: str, rotation: RotationPolicy | None) -> None:
        async with keep_rotated(self.log_path(cid), self.container_dir(cid), rotation):
            status = await self.runtimes[runtime_name].wait_exit(cid)
        self._monitors.pop(cid, None)
        await self.on_exit(cid, status)

    async def on_exit(self, cid: str, status: ExitStatus) -> None:
        async with self._locks[cid]:
            c = self.get(cid)
            c.state.status, c.state.pid = EXITED, 0
            c.state.exit_code, c.state.oom_killed = status.code, status.oom_killed
            c.state.finished_at = status.exited_at or time.time()
            restart_delay = self._restart_delay(c)
            if restart_delay is not None or not c.host.auto_remove:
                await self._release_runtime(c)  # an auto-removed one is released by destroy
            if self.network is not None:
                await self.network.detach(c.id)
            if status.oom_killed:
                self.publish(c, "oom")
            self.publish(c, "die", exitCode=str(status.code))
            if restart_delay is not None:
                c.state.status = RESTARTING
            self.store.save(c)
            self._waiters[c.id].resolve("exit", status.code, "")
        if restart_delay is not None:
            self.spawn(self._restart_later(c.id, restart_delay), f"restart-{cid[:12]}")
        elif c.host.auto_remove:
            await self.remove(c.id, force=True, volumes=True)

    async def _release_runtime(self, c: Container) -> None:
        """Drop the runtime's state of an exited container and unmount its rootfs."""
        try:
            await self.runtime_of(c).delete(c.id, force=True)
        except Exception as exc:
            log.warning("runtime delete of %s failed: %s", c.id[:12], exc)
        await asyncio.to_thread(self.rootfs.unmount, c.id)

    def _restart_delay(self, c: Container) -> float | None:
        """Seconds before the restart policy restarts `c`, or None when it stays down."""
        policy = c.host.restart_policy
        if c.state.stopped_by_user or policy.name in ("", "no"):
            return None
        if policy.name == "on-failure":
            if c.state.exit_code == 0:
                return None
            limit = policy.maximum_retry_count
            if limit and c.state.restart_count >= limit:
                return None
        ran_for = c.state.finished_at - c.state.started_at
        if ran_for >= 10:
            return 0.1
        return min(0.1 * (2 ** min(c.state.restart_count, 10)), MAX_RESTART_DELAY)

    async def _restart_later(self, cid: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._locks[cid]:
            c = self.get(cid)
            if c.state.status != RESTARTING:
                return
            c.state.restart_count += 1
            try:
                await self._start_locked(c)
            except Exception as exc:
                log.warning("restart of %s failed: %s", cid[:12], exc)

    async def stop(self, ref: str, timeout: int | None, signal: str | None) -> None:
        c = self.get(ref)
        if c.state.status == RESTARTING:
            await self._cancel_restart(c)
            return
        if not c.running:
            raise NotModified("container already stopped")
        stop_signal = parse_signal(signal or c.config.stop_signal, signals.SIGTERM)
        if timeout is None:
            timeout = (
                c.config.stop_timeout if c.config.stop_timeout is not None else DEFAULT_STOP_TIMEOUT
            )
        await self._mark_stopped_by_user(c)
        exited = self.exit_future(c.id)
        if c.state.status == PAUSED:
            await self.runtime_of(c).resume(c.id)
        await self._signal(c, stop_signal)
        try:
            await asyncio.wait_for(asyncio.shield(exited), None if timeout < 0 else timeout)
        except TimeoutError:
            await self._signal(c, signals.SIGKILL)
            await self._await_exit(c, exited)
        self.publish(c, "stop")

    async def _cancel_restart(self, c: Container) -> None:
        async with self._locks[c.id]:
            c = self.get(c.id)
            c.state.status, c.state.stopped_by_user = EXITED, True
            self.store.save(c)
        self.publish(c, "stop")

    async def _mark_stopped_by_user(self, c: Container) -> None:
        async with self._locks[c.id]:
            fresh = self.get(c.id)
            fresh.state.stopped_by_user = True
            self.store.save(fresh)

    async def _signal(self, c: Container, number: int) -> None:
        try:
            await self.runtime_of(c).kill(c.id, number)
        except Exception as exc:
            if self.get(c.id).running:
                raise
            log.debug("signal to exited %s ignored: %s", c.id[:12], exc)

    async def kill(self, ref: str, signal: str | None) -> None:
        c = self.get(ref)
        number = parse_signal(signal, signals.SIGKILL)
        if c.state.status not in (RUNNING, PAUSED):
            raise Conflict(f"cannot kill container: {ref}: container {c.id} is not running")
        if number == signals.SIGKILL:
            await self._mark_stopped_by_user(c)
        await self._signal(c, number)
        self.publish(c, "kill", signal=str(number))

    async def kill_and_reap(self, c: Container) -> None:
        """SIGKILL and wait until the exit has been recorded (used by forced removal)."""
        if c.state.status == RESTARTING:
            await self._cancel_restart(c)
            return
        exited = self.exit_future(c.id)
        await self._mark_stopped_by_user(c)
        if c.state.status == PAUSED:
            await self.runtime_of(c).resume(c.id)
        await self._signal(c, signals.SIGKILL)
        self.publish(c, "kill", signal="9")
        await self._await_exit(c, exited)

    async def _await_exit(self, c: Container, exited: asyncio.Future[tuple[int, str]]) -> None:
        """Wait for the monitor to record a SIGKILLed container's exit; if the monitor is gone
        and the runtime no longer knows the process, record the exit here (never hang)."""
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(exited), KILL_GRACE)
                return
            except TimeoutError:
                state = await self.runtime_of(c).state(c.id)
                if state not in (None, "stopped"):
                    log.warning("container %s still not reaped after SIGKILL", c.id[:12])
                    await self._signal(c, signals.SIGKILL)
                    continue
                log.warning("monitor of %s missed the exit; recording it", c.id[:12])
                monitor = self._monitors.pop(c.id, None)
                if monitor is not None:
                    monitor.cancel()
                await self.on_exit(c.id, ExitStatus(137, exited_at=time.time()))
                return

    async def restart(self, ref: str, timeout: int | None, signal: str | None) -> None:
        c = self.get(ref)
        if c.running:
            await self.stop(ref, timeout, signal)
        await self.start(c.id)
        self.publish(self.get(c.id), "restart")

    async def pause(self, ref: str) -> None:
        c = self.get(ref)
        async with self._locks[c.id]:
            c = self.get(c.id)
            if c.state.status == PAUSED:
                raise Conflict(f"container {c.id} is already paused")
            if c.state.status != RUNNING:
                raise Conflict(f"container {c.id} is not running")
            await self.runtime_of(c).pause(c.id)
            c.state.status = PAUSED
            self.store.save(c)
        self.publish(c, "pause")

    async def unpause(self, ref: str) -> None:
        c = self.get(ref)
        async with self._locks[c.id]:
            c = self.get(c.id)
            if c.state.status != PAUSED:
                raise Conflict(f"container {c.id} is not paused")
            await self.runtime_of(c).resume(c.id)
            c.state.status = RUNNING
            self.store.save(c)
        self.publish(c, "unpause")

    def exit_future(self, cid: str) -> asyncio.Future[tuple[int, str]]:
        fut: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        self._waiters[cid].exit.append(fut)
        return fut

    def wait_future(self, ref: str, condition: str) -> asyncio.Future[tuple[int, str]]:
        """A future resolved with (exit code, error) per Docker's wait conditions."""
        if condition not in ("", "not-running", "next-exit", "removed"):
            raise InvalidParameter(f"invalid condition: {condition}")
        c = self.get(ref)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[tuple[int, str]] = loop.create_future()
        if condition == "removed":
            self._waiters[c.id].removed.append(fut)
        elif condition == "next-exit" or c.running:
            self._waiters[c.id].exit.append(fut)
        else:
            fut.set_result((c.state.exit_code, c.state.error))
        return fut

    async def recover(self) -> None:
        """After a daemon restart: re-adopt running containers, record the ones that exited."""
        orphans = await asyncio.to_thread(self.sweep_orphans)
        if orphans:
            log.info("removed files of %d containers without a record", len(orphans))
        for c in self.store.all():
            if c.state.status == REMOVING:
                await self.destroy(c)
            elif c.state.status in (RUNNING, PAUSED):
                await self._recover_one(c)
            elif c.state.status == RESTARTING:
                self.spawn(self._restart_later(c.id, 0), f"restart-{c.id[:12]}")

    async def _recover_one(self, c: Container) -> None:
        """Record an exit that happened while the daemon was down before anyone can ask;
        watch a container that still runs."""
        found = await asyncio.to_thread(self.runtime_of(c).recover, c.id)
        if found.status in ("exited", "gone"):
            status = found.exit or ExitStatus(255, exited_at=time.time(), error="container lost")
            await self.on_exit(c.id, status)
        else:
            self.watch(c)

    async def apply_resources(self, c: Container) -> None:
        from dockwright.engine.containers.setup import update_resources

        await update_resources(self, c)
