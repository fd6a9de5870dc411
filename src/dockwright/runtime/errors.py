"""Errors of the runtime driver, and reading the OCI runtime's error output.

SystemError_
├── RuntimeCommandError   an OCI runtime command (start, kill, ...) failed
└── StartError            the container's process could not be started; `kind` tells
                          "not_found" (Docker: exit 127), "permission_denied" (126), "other"
"""

from __future__ import annotations

import json
import re

from dockwright.errors import SystemError_

_RUNC_LOG = re.compile(r'level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"')
_NOT_FOUND = re.compile(
    r"executable file (?:`[^`]*` )?not found|no such file or directory|cannot find the file",
    re.IGNORECASE,
)
_DENIED = re.compile(
    r"permission denied|operation not permitted|exec format error|is a directory", re.IGNORECASE
)


_NOT_RUNNING = re.compile(
    r"not running|not paused|no such process|has stopped|stopped container", re.IGNORECASE
)
_MISSING = re.compile(r"does not exist|no such file or directory", re.IGNORECASE)


class RuntimeCommandError(SystemError_):
    """`crun|runc <command>` failed; the message is the runtime's own, cleaned up.

    `not_running` and `missing` tell the two refusals a caller maps to Docker's answers
    (e.g. 409 "container ... is not running") the same way for crun and runc.
    """

    def __init__(self, message: str, command: str = "") -> None:
        super().__init__(message)
        self.command = command
        self.missing = bool(_MISSING.search(message))
        self.not_running = not self.missing and bool(_NOT_RUNNING.search(message))


class StartError(SystemError_):
    """Creating the container's process failed.

    `message` follows Docker ("failed to create task for container: ... OCI runtime create
    failed: <runtime's reason>: unknown", or "OCI runtime exec failed: ..." for an exec);
    `runtime_message` is the runtime's reason alone.
    """

    def __init__(self, runtime_message: str, kind: str, operation: str = "create") -> None:
        prefix = (
            "failed to create task for container: failed to create shim task: "
            if operation == "create"
            else ""
        )
        super().__init__(f"{prefix}OCI runtime {operation} failed: {runtime_message}: unknown")
        self.runtime_message = runtime_message
        self.kind = kind
        self.operation = operation

    @property
    def exit_code(self) -> int:
        """The exit code Docker records for this failure."""
        return {"not_found": 127, "permission_denied": 126}.get(self.kind, 128)


def clean_runtime_message(raw: str) -> str:
    """The reason in an OCI runtime's stderr: runc's logrus msg="..." or crun's plain lines."""
    found = _RUNC_LOG.findall(raw)
    if found:
        return str(json.loads(f'"{found[-1]}"'))
    lines = [line.strip() for line in raw.strip().splitlines() if line.strip()]
    text = lines[-1] if lines else raw.strip()
    return text.removeprefix("crun: ").removeprefix("runc: ")


def classify_start_error(message: str) -> str:
    """Docker's rule for start failures: not found -> 127, cannot execute -> 126."""
    if _NOT_FOUND.search(message):
        return "not_found"
    if _DENIED.search(message):
        return "permission_denied"
    return "other"


def start_error(raw: str, operation: str = "create") -> StartError:
    message = clean_runtime_message(raw)
    return StartError(message, classify_start_error(message), operation)
