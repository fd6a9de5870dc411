"""Checking out a git repository for a build (a remote context, or `ADD <git url>`).

Runs the commands builder/gitref.py plans with the `git` binary, as dockerd does, in a
directory the caller owns (and removes, whatever happens here). git runs with the daemon's
environment (its proxy settings apply) but without system or user configuration, without
terminal prompts, ssh in batch mode, and never fetching from the local filesystem (a
repository cannot name host paths as submodules). A cancelled clone kills git's process group.
Failures are SystemError_ with dockerd's words (HTTP 500, as dockerd answers).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from dockwright.builder.gitref import (
    SMART_TYPE,
    GitCommand,
    GitRef,
    fetch_plan,
    probe_url,
    subdir_parts,
    submodule_command,
)
from dockwright.errors import SystemError_

GIT = "git"
GLOBAL_OPTIONS = ("-c", "protocol.file.allow=never", "-c", "advice.detachedHead=false")
PROBE_TIMEOUT = 10.0  # seconds to ask an HTTP server whether it is smart


@dataclass(frozen=True)
class Checkout:
    """A checked-out ref: the clone, the directory used (its subdir), the commit."""

    root: Path
    context: Path
    commit: str


def git_env() -> dict[str, str]:
    """The daemon's environment, minus what would make git read config or ask a person."""
    env = dict(os.environ)
    env.update(
        GIT_CONFIG_NOSYSTEM="1", HOME="/dev/null", GIT_TERMINAL_PROMPT="0",
        GIT_PROTOCOL_FROM_USER="0", GIT_ASKPASS="/bin/false", LC_ALL="C",
    )  # fmt: skip
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


async def clone(ref: GitRef, directory: Path) -> Checkout:
    """Check `ref` out into `directory` (made here, left for the caller to remove)."""
    directory.mkdir(parents=True)
    shallow = await asyncio.to_thread(supports_shallow, ref)
    for command in fetch_plan(ref, str(directory), shallow):
        await run_git(directory, command)
    if (directory / ".gitmodules").exists():
        await run_git(directory, submodule_command(shallow))
    commit = await run_git(directory, GitCommand(("rev-parse", "HEAD"), "error resolving HEAD"))
    return Checkout(directory, _context_dir(directory, ref.subdir), commit.strip())


def supports_shallow(ref: GitRef) -> bool:
    """Blocking: whether the server can answer a shallow fetch (dumb HTTP servers cannot).
    HEAD first, GET when HEAD fails, as dockerd asks."""
    url = probe_url(ref)
    if url is None:
        return True
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method)
        try:
            with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as resp:
                return bool(resp.headers.get("Content-Type") == SMART_TYPE)
        except (OSError, ValueError):
            continue
    return False


async def run_git(cwd: Path, command: GitCommand) -> str:
    """Run one git command in `cwd`; its output, or SystemError_ "<failure>: <output>"."""
    try:
        proc = await asyncio.create_subprocess_exec(
            GIT, *GLOBAL_OPTIONS, *command.args, cwd=cwd, env=git_env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, umask=0o022,  # checked-out files 0644/0755, as BuildKit's
        )  # fmt: skip
    except OSError as exc:
        raise SystemError_(f"{command.failure}: cannot run {GIT}: {exc.strerror}") from None
    try:
        out, _ = await proc.communicate()
    except BaseException:
        _kill_group(proc.pid)
        await proc.wait()
        raise
    text = out.decode(errors="replace").strip()
    if proc.returncode != 0:
        raise SystemError_(f"{command.failure}: {text or f'exit status {proc.returncode}'}")
    return text


def _kill_group(pid: int) -> None:
    """git and what it started (its remote helpers): the session git leads is ours."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _context_dir(root: Path, subdir: str) -> Path:
    """The checkout's `subdir` (dockerd's messages when it is missing or not a directory)."""
    if not subdir:
        return root
    path = root.joinpath(*subdir_parts(subdir))
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise SystemError_(f'error setting git context, "{subdir}" not within git root')
    if not resolved.exists():
        raise SystemError_(f"stat {subdir}: no such file or directory")
    if not resolved.is_dir():
        raise SystemError_(f"error setting git context, not a directory: {subdir}")
    return resolved
