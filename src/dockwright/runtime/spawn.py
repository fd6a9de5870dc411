"""Starting conmon: a new session from the first instant, only the pipes we mean to hand over."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from dockwright.errors import SystemError_

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


async def spawn_conmon(
    argv: Sequence[str], cwd: Path, pipes: dict[str, int]
) -> asyncio.subprocess.Process:
    """Start conmon with each pipe fd named in its environment (e.g. _OCI_SYNCPIPE=5).

    The process returned is conmon's short-lived first half; the monitor itself detaches (it
    is never in the daemon's process group: start_new_session, then conmon's own setsid).
    """
    env = {"PATH": os.environ.get("PATH", _PATH), **{k: str(fd) for k, fd in pipes.items()}}
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=tuple(pipes.values()),
            start_new_session=True,
        )
    except OSError as exc:
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        raise SystemError_(f"cannot run conmon {argv[0]}: {reason}") from None


async def reap(proc: asyncio.subprocess.Process) -> str:
    """Wait for conmon's first half to exit; what it wrote to stderr (its early errors)."""
    _, err = await proc.communicate()
    return (err or b"").decode(errors="replace").strip()
