"""Exec sessions: a second process in a running container, monitored by its own conmon.

Attached sessions use conmon's exec handshake so no output is lost: conmon signals on the
attach pipe once its socket listens, we connect, then release it through the start pipe to
run `<runtime> exec`. The sync pipe then carries the pid and, at the end, the exit code.

    <bundle>/exec/<exec id>/process.json   the OCI process
    <bundle>/exec/<exec id>/pid conmon.pid attach ctl winsz
    <bundle>/exec/<exec id>/exit/<cid>     exit code (conmon names it after the container)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from dockwright.errors import SystemError_
from dockwright.kernel.procs import wait_pidfd
from dockwright.runtime.attach import AttachSession, connect_attach, write_resize
from dockwright.runtime.conmon_args import ConmonCommon, exec_args
from dockwright.runtime.errors import start_error
from dockwright.runtime.monitor import open_monitor, read_exit
from dockwright.runtime.pipes import MessagePipe, pipe_pair, poke
from dockwright.runtime.spawn import reap, spawn_conmon


class ExecSession:
    """A started exec process: its pid, its stdio (when attached), its exit code.

    The caller owns the session: `close()` releases the socket and pipes and removes the
    session's directory (call it after `wait()`, or to abandon a detached session's record).
    """

    def __init__(
        self,
        cid: str,
        exec_id: str,
        directory: Path,
        pid: int,
        sync: MessagePipe,
        stdio: AttachSession | None,
    ) -> None:
        self.cid = cid
        self.exec_id = exec_id
        self.directory = directory
        self.pid = pid
        self.stdio = stdio
        self._sync = sync
        self._code: int | None = None

    async def read(self) -> tuple[int, bytes]:
        """Next output chunk (1 stdout | 2 stderr, data); (0, b"") at the end or if detached."""
        return await self.stdio.read() if self.stdio else (0, b"")

    async def write(self, data: bytes) -> None:
        if self.stdio:
            await self.stdio.write(data)

    async def close_stdin(self) -> None:
        if self.stdio:
            await self.stdio.close_stdin()

    async def resize(self, height: int, width: int) -> None:
        write_resize(self.directory, height, width)

    async def wait(self) -> int:
        """The exit code (128+signal when killed)."""
        if self._code is None:
            message = await self._sync.message()
            if message is not None and "data" in message:
                self._code = int(message["data"])
            else:
                self._code = await self._code_from_file()
        return self._code

    async def _code_from_file(self) -> int:
        found = open_monitor(self.directory / "conmon.pid", self.exec_id)
        if found is not None:
            try:
                await wait_pidfd(found[1])
            finally:
                os.close(found[1])
        status = read_exit(self.directory / "exit" / self.cid, self.directory)
        return status.code if status is not None else 255

    async def close(self) -> None:
        if self.stdio:
            await self.stdio.close()
        self._sync.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _prepare_dir(directory: Path, process: dict[str, Any], tty: bool) -> None:
    (directory / "exit").mkdir(parents=True, exist_ok=True)
    (directory / "process.json").write_text(json.dumps({**process, "terminal": tty}))


async def launch_exec(
    common: ConmonCommon,
    cid: str,
    exec_id: str,
    directory: Path,
    process: dict[str, Any],
    *,
    tty: bool,
    stdin: bool,
    detach: bool,
) -> ExecSession:
    """Start conmon for one exec; return once the process runs (StartError if it cannot)."""
    _prepare_dir(directory, process, tty)
    argv = exec_args(common, cid, exec_id, directory, tty=tty, stdin=stdin, attach=not detach)
    try:
        if detach:
            return await _launch_detached(cid, exec_id, directory, argv)
        return await _launch_attached(cid, exec_id, directory, argv)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


async def _launch_detached(cid: str, exec_id: str, directory: Path, argv: list[str]) -> ExecSession:
    sync_r, sync_w = pipe_pair()
    sync = MessagePipe(sync_r)
    try:
        try:
            proc = await spawn_conmon(argv, directory, {"_OCI_SYNCPIPE": sync_w})
        finally:
            os.close(sync_w)
        pid = await _started_pid(sync, proc)
    except BaseException:
        sync.close()
        raise
    return ExecSession(cid, exec_id, directory, pid, sync, None)


async def _launch_attached(cid: str, exec_id: str, directory: Path, argv: list[str]) -> ExecSession:
    sync_r, sync_w = pipe_pair()
    start_r, start_w = pipe_pair()
    attach_r, attach_w = pipe_pair()
    sync, ready = MessagePipe(sync_r), MessagePipe(attach_r)
    stdio: AttachSession | None = None
    pipes = {"_OCI_SYNCPIPE": sync_w, "_OCI_STARTPIPE": start_r, "_OCI_ATTACHPIPE": attach_w}
    try:
        try:
            proc = await spawn_conmon(argv, directory, pipes)
        finally:
            for fd in pipes.values():
                os.close(fd)
        poke(start_w)  # conmon's first read: proceed to set up the socket
        if await ready.message() is None:
            raise SystemError_(f"conmon failed to set up exec {exec_id}: {await reap(proc)}")
        stdio = connect_attach(directory)
        poke(start_w)  # second read: run `<runtime> exec`
        pid = await _started_pid(sync, proc)
    except BaseException:
        if stdio is not None:
            await stdio.close()
        sync.close()
        raise
    finally:
        ready.close()
        os.close(start_w)
    return ExecSession(cid, exec_id, directory, pid, sync, stdio)


async def _started_pid(sync: MessagePipe, proc: Any) -> int:
    message = await sync.message()
    stderr = await reap(proc)
    if message is None:
        raise SystemError_(f"conmon failed to start exec: {stderr or 'no reason given'}")
    pid = int(message.get("data", -1))
    if pid <= 0:
        raise start_error(str(message.get("message", "")), "exec")
    return pid
