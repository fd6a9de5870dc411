"""Finding a container's conmon again (by pid file, checked against its command line) and
reading what it recorded: the exit file, the oom marker, the container pid."""

from __future__ import annotations

import os
from pathlib import Path

from dockwright.kernel.procs import open_pidfd, read_cmdline
from dockwright.runtime.types import ExitStatus

LOST_MONITOR = "container monitor (conmon) exited without recording the exit status"


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def read_exit(exit_file: Path, bundle: Path) -> ExitStatus | None:
    """The status conmon wrote at exit (it writes the file atomically), or None if not yet."""
    try:
        text = exit_file.read_text().strip()
        exited_at = exit_file.stat().st_mtime
    except FileNotFoundError:
        return None
    code = int(text) if text.lstrip("-").isdigit() else 255
    return ExitStatus(code, (bundle / "oom").exists(), exited_at)


def lost_exit() -> ExitStatus:
    """What to report when nobody recorded how the process ended (Docker also uses 255)."""
    return ExitStatus(255, False, 0.0, LOST_MONITOR)


def is_conmon_for(cmdline: list[str], cuuid: str) -> bool:
    """True for a conmon whose -u (container or exec session id) is `cuuid`."""
    if not cmdline or not os.path.basename(cmdline[0]).startswith("conmon"):
        return False
    pairs = zip(cmdline, cmdline[1:], strict=False)
    return any(flag in ("-u", "--cuuid") and value == cuuid for flag, value in pairs)


def open_monitor(pidfile: Path, cuuid: str) -> tuple[int, int] | None:
    """(pid, pidfd) of the live conmon recorded in `pidfile` for `cuuid`, else None.

    The command line is checked after the pidfd is open, so a recycled pid is never mistaken
    for our conmon.
    """
    pid = read_pid(pidfile)
    if pid is None:
        return None
    fd = open_pidfd(pid)
    if fd is None:
        return None
    if is_conmon_for(read_cmdline(pid), cuuid):
        return pid, fd
    os.close(fd)
    return None
