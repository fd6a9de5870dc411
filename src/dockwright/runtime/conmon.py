"""The container runtime driver: one conmon per container over an OCI runtime (crun or runc).

Files (the bundle is the caller's per-container directory):

    <bundle>/config.json      the OCI spec we write at create
    <bundle>/pid              container pid (written by the runtime)
    <bundle>/conmon.pid       monitor pid
    <bundle>/attach ctl winsz conmon's attach socket and control fifos
    <bundle>/oom              present when the OOM killer hit the container
    <bundle>/exec/<exec id>/  one directory per exec session (see execs.py)
    <state_dir>/runtimes/<runtime name>/   the runtime's --root (its own state)
    <state_dir>/exits/<cid>   exit code written by conmon when the container ends
    <state_dir>/bundles/<cid> symlink to the bundle, so a restarted daemon finds it by id

Nothing here lives in the daemon's memory: every method works the same for a container this
process created and for one re-adopted after a daemon restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from dockwright.errors import InvalidParameter, NotFound, SystemError_
from dockwright.kernel.cgroups import prepare_hybrid_for_crun, remove_cgroup
from dockwright.kernel.procs import pid_alive, wait_pidfd
from dockwright.runtime.attach import AttachSession, connect_attach, write_resize
from dockwright.runtime.conmon_args import CONMON, ConmonCommon, create_args
from dockwright.runtime.direct_exec import DirectExec, launch_direct_exec
from dockwright.runtime.errors import RuntimeCommandError, start_error
from dockwright.runtime.execs import ExecSession, launch_exec
from dockwright.runtime.monitor import lost_exit, open_monitor, read_exit, read_pid
from dockwright.runtime.ocicli import OciCli
from dockwright.runtime.pipes import MessagePipe, pipe_pair
from dockwright.runtime.spawn import reap, spawn_conmon
from dockwright.runtime.types import ExitStatus, RecoveredState

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_CONMON_FILES = ("pid", "conmon.pid", "oom", "attach", "ctl", "winsz")
_DELETE_GRACE = 5.0  # seconds to let conmon record a force-deleted container's exit


def _check_id(kind: str, value: str) -> str:
    if not _ID.match(value):
        raise InvalidParameter(f"invalid {kind}: {value!r}")
    return value


class ConmonRuntime:
    """Create, run and watch containers through conmon and one OCI runtime binary.

    `runtime_path` is the crun or runc binary; `state_dir` is this daemon's directory under
    /run (shared by all its runtimes). Methods raise NotFound for a container this driver has
    no trace of, RuntimeCommandError when the runtime refuses an operation, and StartError
    (with `kind` "not_found" / "permission_denied" / "other") when the process cannot start.
    """

    def __init__(
        self,
        runtime_path: str | Path,
        state_dir: Path,
        *,
        conmon_path: str = CONMON,
        name: str | None = None,
        prepare_cgroups: bool = True,
    ) -> None:
        self.runtime_path = str(runtime_path)
        self.name = name or Path(runtime_path).name
        self.state_dir = Path(state_dir)
        self._cli = OciCli(self.runtime_path, self.state_dir / "runtimes" / self.name)
        self._common = ConmonCommon(conmon_path, self.runtime_path, self._cli.root)
        self._exits = self.state_dir / "exits"
        self._links = self.state_dir / "bundles"
        self._needs_cgroup_fix = prepare_cgroups and self.name.startswith("crun")
        # Exit statuses read just before delete removed the exit file, for waiters racing it.
        self._final: dict[str, ExitStatus] = {}

    # -- where things are

    def bundle_of(self, cid: str) -> Path:
        """The bundle directory recorded at create; NotFound when there is none."""
        try:
            return Path(os.readlink(self._links / _check_id("container id", cid)))
        except FileNotFoundError:
            raise NotFound(f"no such container: {cid}") from None

    def exit_file(self, cid: str) -> Path:
        return self._exits / cid

    # -- lifecycle

    async def create(
        self,
        cid: str,
        bundle: Path,
        spec: dict[str, Any],
        *,
        tty: bool,
        stdin: bool,
        stdin_once: bool,
        log_path: Path | None,
    ) -> int:
        """Start conmon, which runs `<runtime> create`; return the container's pid.

        The process is created but waits for `start`; the attach socket is ready on return,
        so a client can attach before any output exists. On failure nothing of conmon or
        the runtime is left running; StartError says why (e.g. executable not found).
        """
        _check_id("container id", cid)
        self._prepare_host()
        self._final.pop(cid, None)
        self._lay_out(cid, Path(bundle), spec)
        argv = create_args(
            self._common,
            cid,
            Path(bundle),
            log_path,
            self._exits,
            tty=tty,
            stdin=stdin,
            stdin_once=stdin_once,
        )
        message, stderr = await self._run_conmon(argv, Path(bundle))
        if message is None:
            raise SystemError_(
                f"conmon failed to create container {cid}: {stderr or 'no reason given'}"
            )
        pid = int(message.get("data", -1))
        if pid <= 0:
            raise start_error(str(message.get("message", "")))
        return pid

    def _prepare_host(self) -> None:
        if self._needs_cgroup_fix:
            prepare_hybrid_for_crun()
            self._needs_cgroup_fix = False

    def _lay_out(self, cid: str, bundle: Path, spec: dict[str, Any]) -> None:
        """Write config.json and the id -> bundle link; clear what a previous run left."""
        for d in (bundle, self._exits, self._links, self._cli.root):
            d.mkdir(parents=True, exist_ok=True)
        for name in _CONMON_FILES:
            (bundle / name).unlink(missing_ok=True)
        self.exit_file(cid).unlink(missing_ok=True)
        tmp = bundle / "config.json.tmp"
        tmp.write_text(json.dumps(spec, indent=1))
        os.replace(tmp, bundle / "config.json")
        link = self._links / cid
        link.unlink(missing_ok=True)
        link.symlink_to(bundle.resolve())

    async def _run_conmon(self, argv: list[str], cwd: Path) -> tuple[dict[str, Any] | None, str]:
        """Spawn conmon, read its first sync message, reap its first half."""
        sync_r, sync_w = pipe_pair()
        reader = MessagePipe(sync_r)
        try:
            try:
                proc = await spawn_conmon(argv, cwd, {"_OCI_SYNCPIPE": sync_w})
            finally:
                os.close(sync_w)
            message = await reader.message()
        finally:
            reader.close()
        return message, await reap(proc)

    async def start(self, cid: str) -> None:
        """Let the created process run (the runtime execs the user's command)."""
        await self._cli.run("start", _check_id("container id", cid))

    async def kill(self, cid: str, signal: int, all: bool = False) -> None:
        """Send `signal` to the container's init (to every process in it with all=True)."""
        args = ["kill", *(["--all"] if all else []), _check_id("container id", cid), str(signal)]
        await self._cli.run(*args)

    async def pause(self, cid: str) -> None:
        await self._cli.run("pause", _check_id("container id", cid))

    async def resume(self, cid: str) -> None:
        await self._cli.run("resume", _check_id("container id", cid))

    async def update(self, cid: str, resources: dict[str, Any]) -> None:
        """Change the cgroup limits of a running container (an OCI linux.resources object).

        Device rules are left out: they never change after create, and rewriting them would
        briefly deny the running processes their devices.
        """
        limits = {k: v for k, v in resources.items() if k != "devices"}
        await self._cli.update(_check_id("container id", cid), limits)

    async def state(self, cid: str) -> str | None:
        """The runtime's status ("created", "running", "paused", "stopped"), None if unknown."""
        doc = await self._cli.state(_check_id("container id", cid))
        return None if doc is None else str(doc.get("status", ""))

    async def delete(self, cid: str, force: bool = False) -> None:
        """Remove the runtime state and everything conmon left (idempotent).

        force kills a running container first. The bundle's config.json stays; the caller owns
        the bundle directory. Leftover cgroup directories of the container are removed.
        """
        _check_id("container id", cid)
        try:
            bundle: Path | None = self.bundle_of(cid)
        except NotFound:
            bundle = None
        if (self._cli.root / cid).exists():  # no runtime state: spare a process spawn (~5 ms)
            try:
                await self._cli.run("delete", *(["--force"] if force else []), cid)
            except RuntimeCommandError as exc:
                if not exc.missing:
                    raise
        if bundle is not None:
            await self._let_monitor_finish(bundle, cid)
            self._clean(cid, bundle)

    async def _let_monitor_finish(self, bundle: Path, cid: str) -> None:
        found = open_monitor(bundle / "conmon.pid", cid)
        if found is None:
            return
        try:
            await asyncio.wait_for(wait_pidfd(found[1]), _DELETE_GRACE)
        except TimeoutError:
            pass
        finally:
            os.close(found[1])

    def _clean(self, cid: str, bundle: Path) -> None:
        status = read_exit(self.exit_file(cid), bundle)
        if status is not None:
            self._final[cid] = status
        for name in _CONMON_FILES:
            (bundle / name).unlink(missing_ok=True)
        shutil.rmtree(bundle / "exec", ignore_errors=True)
        self.exit_file(cid).unlink(missing_ok=True)
        (self._links / cid).unlink(missing_ok=True)
        cgroups_path = _cgroups_path(bundle)
        if cgroups_path:
            remove_cgroup(cgroups_path)

    # -- exit

    async def wait_exit(self, cid: str) -> ExitStatus:
        """Wait for the container's process to end and return how it ended.

        Works for containers re-adopted after a daemon restart: the monitor is found through
        its pid file and watched with a pidfd (no polling). If conmon itself vanished without
        recording the status, code is 255 and `error` says so.
        """
        try:
            bundle = self.bundle_of(cid)
        except NotFound:
            if cid in self._final:  # deleted by this process after it ended
                return self._final[cid]
            raise
        status = read_exit(self.exit_file(cid), bundle)
        if status is not None:
            return status
        found = open_monitor(bundle / "conmon.pid", cid)
        if found is not None:
            try:
                await wait_pidfd(found[1])
            finally:
                os.close(found[1])
        status = read_exit(self.exit_file(cid), bundle) or self._final.get(cid)
        if status is None:
            return lost_exit()
        # Seen live: the clock is finer than the exit file's mtime (and never before the logs).
        return replace(status, exited_at=max(status.exited_at, time.time()))

    def recover(self, cid: str) -> RecoveredState:
        """What became of a container while the daemon was away (synchronous; for startup)."""
        try:
            bundle = self.bundle_of(cid)
        except NotFound:
            return RecoveredState("gone")
        status = read_exit(self.exit_file(cid), bundle)
        if status is not None:
            return RecoveredState("exited", exit=status)
        pid = read_pid(bundle / "pid")
        found = open_monitor(bundle / "conmon.pid", cid)
        if found is None:
            return RecoveredState(
                "exited", exit=read_exit(self.exit_file(cid), bundle) or lost_exit()
            )
        os.close(found[1])
        doc = self._cli.state_sync(cid)
        state = str(doc.get("status", "")) if doc else ""
        if state == "created":
            return RecoveredState("created", pid, found[0])
        if state == "paused":
            return RecoveredState("paused", pid, found[0])
        # "running", or "stopped" while conmon is still writing the exit: wait_exit will tell.
        return RecoveredState("running", pid if pid and pid_alive(pid) else None, found[0])

    # -- stdio

    async def attach(self, cid: str) -> AttachSession:
        """Connect to the container's stdio (output from now on; stdin if it was opened)."""
        bundle = self.bundle_of(cid)
        try:
            return connect_attach(bundle)
        except OSError as exc:
            raise SystemError_(
                f"cannot attach to container {cid}: monitor not running ({exc.strerror})".lower()
            ) from None

    async def resize(self, cid: str, height: int, width: int) -> None:
        """Resize the container's terminal (no effect once it is gone)."""
        write_resize(self.bundle_of(cid), height, width)

    async def exec(
        self,
        cid: str,
        process: dict[str, Any],
        *,
        tty: bool,
        stdin: bool,
        detach: bool,
        exec_id: str | None = None,
    ) -> ExecSession | DirectExec:
        """Run `process` (an OCI process object) in the running container.

        Attached non-TTY execs run the OCI runtime directly (runtime.direct_exec); the others
        go through conmon.

        Attached sessions are connected before the process starts, so no output is lost.
        Raises StartError when the runtime cannot start it (e.g. executable not found).
        """
        bundle = self.bundle_of(cid)
        exec_id = _check_id("exec id", exec_id or os.urandom(16).hex())
        if not tty and not detach:
            return await launch_direct_exec(
                self._cli.argv(), cid, bundle / "exec" / f"{exec_id}.json", process, stdin=stdin
            )
        return await launch_exec(
            self._common,
            cid,
            exec_id,
            bundle / "exec" / exec_id,
            process,
            tty=tty,
            stdin=stdin,
            detach=detach,
        )


def _cgroups_path(bundle: Path) -> str:
    try:
        spec = json.loads((bundle / "config.json").read_text())
    except (OSError, ValueError):
        return ""
    return str(spec.get("linux", {}).get("cgroupsPath", ""))
