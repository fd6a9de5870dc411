"""Attached, non-TTY execs run by `<runtime> exec` directly, without a conmon of their own.

conmon's exec handshake (three pipes, a socket, a second process) costs more than `crun exec`
itself; an attached exec has a client holding its streams anyway, so the daemon's pipes are its
stdio. Trade-off: such an exec does not survive a daemon restart (its streams would be gone
too). TTY and detached execs keep going through conmon.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

STDOUT, STDERR = 1, 2
CHUNK = 65536
DRAIN_TIMEOUT = 2.0


class DirectExec:
    """A running `<runtime> exec`; same interface as runtime.execs.ExecSession."""

    def __init__(self, proc: asyncio.subprocess.Process, spec_file: Path) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.spec_file = spec_file
        self._chunks: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        self._readers = [
            asyncio.ensure_future(self._pump(STDOUT, proc.stdout)),
            asyncio.ensure_future(self._pump(STDERR, proc.stderr)),
        ]
        self._open = 2

    async def _pump(self, kind: int, stream: asyncio.StreamReader | None) -> None:
        try:
            while stream is not None and (data := await stream.read(CHUNK)):
                await self._chunks.put((kind, data))
        finally:
            await self._chunks.put((0, b""))

    async def read(self) -> tuple[int, bytes]:
        """Next output chunk (1 stdout | 2 stderr, data); (0, b"") once both have ended."""
        while self._open:
            kind, data = await self._chunks.get()
            if data:
                return kind, data
            self._open -= 1
        return 0, b""

    async def write(self, data: bytes) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.write(data)
            with contextlib.suppress(ConnectionError):
                await self.proc.stdin.drain()

    async def close_stdin(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()

    async def resize(self, height: int, width: int) -> None:
        """No terminal: nothing to resize."""

    async def wait(self) -> int:
        """The exit code (128+signal when killed)."""
        code = await self.proc.wait()
        return 128 - code if code < 0 else code

    async def close(self) -> None:
        """Stop the process if it still runs and drain its pipes, so asyncio's subprocess
        transport finishes (closing it any other way leaves it to the garbage collector)."""
        await self.close_stdin()
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        _done, pending = await asyncio.wait(self._readers, timeout=DRAIN_TIMEOUT)
        for task in pending:  # a process the exec started may still hold the pipes
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        self.spec_file.unlink(missing_ok=True)


async def launch_direct_exec(
    argv_prefix: list[str], cid: str, spec: Path, process: dict[str, Any], *, stdin: bool
) -> DirectExec:
    """Run `<runtime> --root=… exec --process <spec> <cid>` with pipes as its stdio; `spec`
    is a file of its own (one unlink afterwards is cheaper than a directory to remove)."""
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps({**process, "terminal": False}))
    proc = await asyncio.create_subprocess_exec(
        *argv_prefix,
        "exec",
        "--process",
        str(spec),
        cid,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    return DirectExec(proc, spec)
