#!/usr/bin/env python3
"""dockwrightd with a stopwatch on the phases of a build, for bench/build_profile.sh.

Launch it in place of dockwrightd (same flags); every call of a wrapped function appends
`<unix time> <phase> <ms>` to $DW_STEPS_LOG. `buildsteps.py --summary LOG` prints calls, total
and median per phase; `--timeline LOG` the main phases on a time axis. Async generators (the build and its steps stream messages) are timed from
their first to their last message. Names are dockwright internals (a name that moved is skipped
and reported on stderr) and are patched where they are looked up: a function imported by name
into another module is wrapped in that module too. Phases nest and stages run concurrently, so
totals overlap; they say where the wall time goes, not a sum.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import shutil
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any, TextIO

# (module, attribute path) of each phase worth timing.
PHASES = [
    ("dockwright.engine.builds.service", "BuildService.build"),
    ("dockwright.engine.builds.service", "BuildService._receive"),
    ("dockwright.builder.context", "unpack"),
    ("dockwright.builder.context", "prune"),
    ("dockwright.builder.context", "find_all"),
    ("dockwright.builder.context", "hash_sources"),
    ("dockwright.engine.builds.run_step", "RunSteps.run"),
    ("dockwright.engine.builds.run_step", "RunSteps._execute"),
    ("dockwright.engine.builds.copy_step", "CopySteps.copy"),
    ("dockwright.engine.builds.copy_step", "CopySteps._write_layer"),
    ("dockwright.engine.builds.copy_step", "ImageRoot.__aenter__"),
    ("dockwright.engine.builds.copy_step", "ImageRoot.__aexit__"),
    ("dockwright.builder.copy", "copy_sources"),
    ("dockwright.builder.copy", "write_deferred"),
    ("dockwright.engine.builds.base", "StepRunner.cached"),
    ("dockwright.engine.builds.base", "StepRunner.commit"),
    ("dockwright.engine.builds.commit", "stage_dir_spooled"),
    ("dockwright.engine.builds.commit", "cfg.encode"),
    ("dockwright.engine.containers.service", "ContainerService.create"),
    ("dockwright.engine.containers.service", "ContainerService.start"),
    ("dockwright.engine.containers.service", "ContainerService.remove"),
    ("dockwright.engine.wiring", "OverlayRootfs.mount"),
    ("dockwright.engine.wiring", "OverlayRootfs.unmount"),
]


def _timed(fn: Any, label: str, out: TextIO) -> Any:
    def record(t0: float) -> None:
        out.write(f"{time.time():.4f} {label} {(time.perf_counter() - t0) * 1000:.2f}\n")

    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def agen(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            t0 = time.perf_counter()
            try:
                async for item in fn(*args, **kwargs):
                    yield item
            finally:
                record(t0)

        return agen
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def coro(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                record(t0)

        return coro

    @functools.wraps(fn)
    def plain(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            record(t0)

    return plain


def _patch(module_name: str, path: str, out: TextIO) -> None:
    owner: Any = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    label = (
        path if parents and parents[0][0].isupper() else f"{module_name.rsplit('.', 1)[1]}.{path}"
    )
    setattr(owner, name, _timed(getattr(owner, name), label, out))


def install(out: TextIO) -> None:
    for module_name, path in PHASES:
        try:
            _patch(module_name, path, out)
        except (ImportError, AttributeError) as exc:
            print(f"buildsteps.py: not timing {module_name}:{path}: {exc}", file=sys.stderr)
    # every rmtree of the daemon (the build's scratch dir, container dirs): one label
    timed: Callable[..., Any] = _timed(shutil.rmtree, "shutil.rmtree", out)
    shutil.rmtree = timed  # type: ignore[assignment]


def summary(path: str) -> None:
    samples: dict[str, list[float]] = defaultdict(list)
    with open(path) as f:
        for line in f:
            parts = line.split()
            samples[" ".join(parts[1:-1])].append(float(parts[-1]))
    print("| phase | calls | total ms | median ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for phase, ms in sorted(samples.items(), key=lambda kv: -sum(kv[1])):
        print(
            f"| {phase} | {len(ms)} | {sum(ms):.0f} | {statistics.median(ms):.1f} | {max(ms):.1f} |"
        )


TIMELINE = ("BuildService.build", "BuildService._receive", "RunSteps.run", "CopySteps.copy",
            "StepRunner.commit", "ContainerService.remove", "shutil.rmtree")  # fmt: skip


def timeline(path: str, min_ms: float = 50) -> None:
    """The steps of one build on a time axis (seconds from its first phase), longest-first
    phases of TIMELINE only, so the critical path and the overlap of stages show."""
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            end, label, ms = float(parts[0]), " ".join(parts[1:-1]), float(parts[-1])
            rows.append((end - ms / 1000, end, label, ms))
    t0 = min(r[0] for r in rows)
    print("| phase | start s | end s | ms |")
    print("|---|---:|---:|---:|")
    for start, end, label, ms in sorted(rows):
        if label in TIMELINE and ms >= min_ms:
            print(f"| {label} | {start - t0:.2f} | {end - t0:.2f} | {ms:.0f} |")


def main() -> None:
    if sys.argv[1:2] == ["--summary"]:
        summary(sys.argv[2])
        return
    if sys.argv[1:2] == ["--timeline"]:
        timeline(sys.argv[2])
        return
    # open for the daemon's whole life, so no context manager
    out = open(os.environ.get("DW_STEPS_LOG", "/dev/null"), "a", buffering=1)  # noqa: SIM115
    install(out)
    from dockwright.daemon import main as daemon_main

    sys.argv[0] = "dockwrightd"
    daemon_main()


if __name__ == "__main__":
    main()
