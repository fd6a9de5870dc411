"""Find a container's executable inside its rootfs before the runtime tries, for Docker's errors.

The docker CLI maps start errors to exit codes by their text ("executable file not found",
"no such file or directory" → 127; "permission denied", "is a directory" → 126), so we produce
runc's exact wording whatever runtime runs the container.
"""

from __future__ import annotations

import os
import stat
from pathlib import PurePosixPath

from dockwright.errors import InvalidParameter

PREFIX = (
    "failed to create task for container: failed to create shim task: OCI runtime create failed: "
    "runc create failed: unable to start container process: "
)


EXEC_PREFIX = "OCI runtime exec failed: exec failed: unable to start container process: "


class StartFailed(InvalidParameter):
    """The container's process cannot be started; carries the exit code Docker records."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(PREFIX + message + ": unknown")
        self.reason = message
        self.exit_code = exit_code

    def for_exec(self) -> StartFailed:
        """The same failure worded as dockerd words it for `docker exec`."""
        err = StartFailed(self.reason, self.exit_code)
        err.args = (EXEC_PREFIX + self.reason + ": unknown",)
        return err


def resolve_in_root(root: str, path: str, max_links: int = 40) -> str | None:
    """The host path of container path `path`, following symlinks without leaving `root`."""
    parts = [p for p in PurePosixPath(path).parts if p != "/"]
    current = "/"
    links = 0
    while parts:
        name = parts.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            current = str(PurePosixPath(current).parent)
            continue
        candidate = str(PurePosixPath(current) / name)
        host = root + candidate
        try:
            st = os.lstat(host)
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > max_links:
                return None
            target = os.readlink(host)
            if target.startswith("/"):
                current = "/"
            parts = [p for p in PurePosixPath(target).parts if p != "/"] + parts
            continue
        current = candidate
    return root + current


def check_executable(root: str, argv0: str, env: tuple[str, ...], cwd: str) -> None:
    """Raise StartFailed as runc would when `argv0` cannot be executed in the container."""
    if "/" in argv0:
        path = argv0 if argv0.startswith("/") else str(PurePosixPath(cwd or "/") / argv0)
        host = resolve_in_root(root, path)
        if host is None:
            raise StartFailed(f'exec: "{argv0}": stat {argv0}: no such file or directory', 127)
        _check_file(host, argv0)
        return
    search = next((e[5:] for e in env if e.startswith("PATH=")), "")
    for directory in search.split(":"):
        host = resolve_in_root(root, str(PurePosixPath(directory or ".") / argv0))
        if host is not None and os.path.isfile(host) and os.access(host, os.X_OK):
            return
    raise StartFailed(f'exec: "{argv0}": executable file not found in $PATH', 127)


def check_workdir(root: str, cwd: str) -> None:
    """Raise StartFailed as runc does for an exec whose working directory is missing (a
    container's own WorkingDir is created at start instead, as Docker does)."""
    host = resolve_in_root(root, cwd or "/")
    if host is None:
        reason = "no such file or directory"
    elif not os.path.isdir(host):
        reason = "not a directory"
    else:
        return
    raise StartFailed(f'chdir to cwd ("{cwd}") set in config.json failed: {reason}', 126)


def _check_file(host: str, argv0: str) -> None:
    if os.path.isdir(host):
        raise StartFailed(f'exec: "{argv0}": is a directory', 126)
    if not os.access(host, os.X_OK):
        raise StartFailed(f'exec: "{argv0}": permission denied', 126)
