#!/usr/bin/env python3
"""dockwrightd with a stopwatch on the steps of run / exec / remove, for profiling.

Launch it in place of dockwrightd (same flags); every call of the wrapped functions appends
`<unix time> <step> <ms>` to $DW_STEPS_LOG. `steps.py --summary LOG` prints the medians.
The wrapped names are internals of dockwright: a name that no longer exists is skipped and
reported on stderr, so the tool degrades instead of breaking when the code moves.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import statistics
import sys
import time
from collections import defaultdict
from typing import Any, TextIO

# (module, attribute path) of each step worth timing.
STEPS = [
    ("dockwright.engine.containers.lifecycle", "prepare_start"),
    ("dockwright.engine.containers.service", "ContainerService.create"),
    ("dockwright.engine.containers.service", "ContainerService.start"),
    ("dockwright.engine.containers.service", "ContainerService.on_exit"),
    ("dockwright.engine.containers.service", "ContainerService.remove"),
    ("dockwright.engine.containers.service", "ContainerService.destroy"),
    ("dockwright.engine.containers.service", "ContainerService._remove_files"),
    ("dockwright.runtime.conmon", "ConmonRuntime.create"),
    ("dockwright.runtime.conmon", "ConmonRuntime._run_conmon"),
    ("dockwright.runtime.conmon", "ConmonRuntime.start"),
    ("dockwright.runtime.conmon", "ConmonRuntime.delete"),
    ("dockwright.runtime.conmon", "ConmonRuntime.exec"),
    ("dockwright.runtime.ocicli", "OciCli.run"),
    ("dockwright.engine.wiring", "OverlayRootfs.mount"),
    ("dockwright.engine.wiring", "OverlayRootfs.unmount"),
    ("dockwright.engine.wiring", "OverlayRootfs.remove"),
    ("dockwright.engine.execs", "ExecService.start"),
    ("dockwright.engine.execs", "exec_process"),
    ("dockwright.runtime.execs", "_started_pid"),
]


def _label(path: str, args: tuple[Any, ...]) -> str:
    """OciCli.run is labelled with its sub-command (create, start, delete ...)."""
    if path == "OciCli.run" and len(args) > 1:
        return f"{path} {args[1]}"
    return path


def _timed(fn: Any, path: str, out: TextIO) -> Any:
    def record(args: tuple[Any, ...], t0: float) -> None:
        ms = (time.perf_counter() - t0) * 1000
        out.write(f"{time.time():.4f} {_label(path, args)} {ms:.2f}\n")

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                record(args, t0)

        return awrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            record(args, t0)

    return wrapper


def install(out: TextIO) -> None:
    for module_name, path in STEPS:
        try:
            owner: Any = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for part in parents:
                owner = getattr(owner, part)
            setattr(owner, name, _timed(getattr(owner, name), path, out))
        except (ImportError, AttributeError) as exc:
            print(f"steps.py: not timing {module_name}:{path}: {exc}", file=sys.stderr)


def summary(path: str) -> None:
    samples: dict[str, list[float]] = defaultdict(list)
    with open(path) as f:
        for line in f:
            parts = line.split()
            samples[" ".join(parts[1:-1])].append(float(parts[-1]))
    print("| step | calls | median ms | min ms |")
    print("|---|---:|---:|---:|")
    for step, ms in sorted(samples.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"| {step} | {len(ms)} | {statistics.median(ms):.1f} | {min(ms):.1f} |")


def main() -> None:
    if sys.argv[1:2] == ["--summary"]:
        summary(sys.argv[2])
        return
    # open for the daemon's whole life, so no context manager
    out = open(os.environ.get("DW_STEPS_LOG", "/dev/null"), "a", buffering=1)  # noqa: SIM115
    install(out)
    from dockwright.daemon import main as daemon_main

    sys.argv[0] = "dockwrightd"
    daemon_main()


if __name__ == "__main__":
    main()
