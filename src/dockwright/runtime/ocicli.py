"""The OCI runtime's command line (crun or runc): start, kill, pause, resume, delete, state."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from dockwright.runtime.errors import RuntimeCommandError, clean_runtime_message


def is_missing_container(message: str) -> bool:
    """True when the runtime's error says it has no state for the container."""
    return RuntimeCommandError(message).missing


class OciCli:
    """Runs `<runtime> --root=<root> <command> ...` for one runtime binary and state root."""

    def __init__(self, runtime: str, root: Path) -> None:
        self.runtime = runtime
        self.root = root

    def argv(self, *args: str) -> list[str]:
        return [self.runtime, f"--root={self.root}", *args]

    async def run(self, *args: str) -> str:
        """Run a command; its stdout, or RuntimeCommandError with the runtime's reason."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv(*args),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            error = RuntimeCommandError(f"cannot run {self.runtime}: {reason}", args[0])
            error.missing = False  # the binary is missing, not the container
            raise error from None
        out, err = await proc.communicate()
        if proc.returncode != 0:
            message = (
                clean_runtime_message(err.decode(errors="replace")) or f"exit {proc.returncode}"
            )
            raise RuntimeCommandError(f"{Path(self.runtime).name} {args[0]}: {message}", args[0])
        return out.decode(errors="replace")

    async def update(self, cid: str, resources: dict[str, Any]) -> None:
        """Apply an OCI `linux.resources` object to a running container (`update --resources -`).

        Both crun and runc read the object from stdin; fields left out keep their value.
        """
        argv = self.argv("update", "--resources=-", cid)
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, err = await proc.communicate(json.dumps(resources).encode())
        if proc.returncode != 0:
            message = (
                clean_runtime_message(err.decode(errors="replace")) or f"exit {proc.returncode}"
            )
            raise RuntimeCommandError(f"{Path(self.runtime).name} update: {message}", "update")

    async def state(self, cid: str) -> dict[str, Any] | None:
        """The runtime's state document, or None when it knows no such container."""
        try:
            return dict(json.loads(await self.run("state", cid)))
        except RuntimeCommandError as exc:
            if exc.missing:
                return None
            raise

    def state_sync(self, cid: str) -> dict[str, Any] | None:
        """`state` for synchronous callers (daemon restart recovery)."""
        done = subprocess.run(self.argv("state", cid), capture_output=True, check=False)
        if done.returncode != 0:
            message = clean_runtime_message(done.stderr.decode(errors="replace"))
            if is_missing_container(message):
                return None
            raise RuntimeCommandError(f"{Path(self.runtime).name} state: {message}", "state")
        return dict(json.loads(done.stdout))
