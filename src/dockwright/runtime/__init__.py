"""dockwright.runtime: containers on conmon + an OCI runtime (crun by default, runc selectable).

Public API (what the engine calls):
- build_spec(RunSpec) -> dict: the OCI config.json, with Docker's defaults (spec.py);
  build_exec_process(...) -> dict: an exec's OCI process derived from the container's
- resolve_user(rootfs, user) -> ResolvedUser (users.py)
- ConmonRuntime: create/start/kill/pause/resume/delete/state/wait_exit/recover/attach/resize/exec
- read_log / follow_log over conmon's k8s-file logs (logs.py)
"""

from dockwright.runtime.attach import AttachSession
from dockwright.runtime.conmon import ConmonRuntime
from dockwright.runtime.errors import RuntimeCommandError, StartError
from dockwright.runtime.execs import ExecSession
from dockwright.runtime.logs import (
    LogRecord,
    follow_log,
    format_timestamp,
    parse_timestamp,
    read_log,
)
from dockwright.runtime.spec import build_exec_process, build_spec, docker_env
from dockwright.runtime.types import (
    BindMount,
    DeviceNode,
    ExitStatus,
    RecoveredState,
    ResolvedUser,
    ResourceLimits,
    RunSpec,
    TmpfsMount,
)
from dockwright.runtime.users import resolve_user

__all__ = [
    "AttachSession",
    "BindMount",
    "ConmonRuntime",
    "DeviceNode",
    "ExecSession",
    "ExitStatus",
    "LogRecord",
    "RecoveredState",
    "ResolvedUser",
    "ResourceLimits",
    "RunSpec",
    "RuntimeCommandError",
    "StartError",
    "TmpfsMount",
    "build_exec_process",
    "build_spec",
    "docker_env",
    "follow_log",
    "format_timestamp",
    "parse_timestamp",
    "read_log",
    "resolve_user",
]
