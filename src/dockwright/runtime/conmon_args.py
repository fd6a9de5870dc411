"""conmon command lines (pure), for a container's create and for an exec session.

conmon double-forks: the process we spawn exits as soon as it has written --conmon-pidfile,
and the monitor lives on in its own session (setsid), so containers survive the daemon.
The attach socket is created with --full-attach directly in the bundle (no 108-byte limit
trouble: clients connect through /proc/self/fd/<dir fd>/attach).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockwright.errors import InvalidParameter

CONMON = "/usr/bin/conmon"


@dataclass(frozen=True)
class ConmonCommon:
    """What every conmon invocation of one daemon shares."""

    conmon: str
    runtime: str
    runtime_root: Path


def _common(c: ConmonCommon, cid: str, cuuid: str, bundle: Path) -> list[str]:
    return [
        c.conmon,
        "--api-version",
        "1",
        "-c",
        cid,
        "-u",
        cuuid,
        "-n",
        cid,
        "-r",
        c.runtime,
        "-b",
        str(bundle),
        "-p",
        str(bundle / "pid"),
        "--conmon-pidfile",
        str(bundle / "conmon.pid"),
        "--full-attach",
        "--no-sync-log",
        "--runtime-arg",
        f"--root={c.runtime_root}",
    ]


def _stdio(tty: bool, stdin: bool) -> list[str]:
    return (["-t"] if tty else []) + (["-i"] if stdin else [])


def create_args(
    c: ConmonCommon,
    cid: str,
    bundle: Path,
    log_path: Path | None,
    exit_dir: Path,
    *,
    tty: bool,
    stdin: bool,
    stdin_once: bool,
) -> list[str]:
    """conmon for `runtime create`: the log in k8s-file format (no log at all when `log_path`
    is None: Docker's "none" driver), the exit code in exit_dir/cid.

    conmon's own --log-size-max is not used: it replaces the file and loses its lines; the
    daemon rotates instead (runtime.log_rotation), through the `ctl` fifo's reopen message.
    Without stdin_once, stdin stays open when an attached client goes away (Docker semantics).
    """
    if ":" in str(log_path):
        raise InvalidParameter(f"log path must not contain ':': {log_path}")
    args = _common(c, cid, cid, bundle)
    log_driver = "none" if log_path is None else f"k8s-file:{log_path}"
    args += ["-l", log_driver, "--exit-dir", str(exit_dir)]
    args += _stdio(tty, stdin)
    if stdin and not stdin_once:
        args.append("--leave-stdin-open")
    return args


def exec_args(
    c: ConmonCommon, cid: str, exec_id: str, exec_dir: Path, *, tty: bool, stdin: bool, attach: bool
) -> list[str]:
    """conmon for `runtime exec` of exec_dir/process.json; output only goes to the attach socket."""
    args = _common(c, cid, exec_id, exec_dir)
    args += ["-l", "none", "--exit-dir", str(exec_dir / "exit")]
    args += _stdio(tty, stdin)
    args += ["-e", "--exec-process-spec", str(exec_dir / "process.json")]
    if attach:
        args.append("--exec-attach")
    return args
