#!/usr/bin/env python3
"""Memory of an engine's process tree: the daemon, its descendants and the per-container
monitors it spawned (conmon / containerd-shim, which re-parent away from the daemon), minus
the containers' own processes (same on both engines, so not the engine's cost).

Usage: rss.py LABEL PHASE MARKER PID...   prints one JSON object: per-process rows and sums.
  MARKER  a path only this engine's processes carry in their command line (its temp dir)
  PID     the engine's root processes (e.g. dockerd and containerd)

RSS counts shared pages (the binary's text) once per process; PSS splits them among the
processes sharing them, so the PSS sum is the fairer total for many monitors of one binary.
"""

from __future__ import annotations

import json
import os
import sys


def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(name))
    return kids


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def mnt_ns(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return ""


def memory(pid: int) -> tuple[int, int]:
    """(RSS kB, PSS kB) of one process."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def engine_pids(marker: str, roots: list[int]) -> list[int]:
    """Roots, processes naming `marker`, and their descendants, in the host mount namespace."""
    kids = children_map()
    host = mnt_ns(os.getpid())  # ours; pid 1 may not be readable
    todo = list(roots) + [p for ps in kids.values() for p in ps if marker in cmdline(p)]
    seen: set[int] = {os.getpid()}  # this script names the marker too
    while todo:
        pid = todo.pop()
        if pid in seen or mnt_ns(pid) != host:  # a container's own process: not the engine
            continue
        seen.add(pid)
        todo.extend(kids.get(pid, []))
    return sorted(seen - {os.getpid()})


def main(argv: list[str]) -> None:
    label, phase, marker, roots = argv[0], argv[1], argv[2], [int(p) for p in argv[3:]]
    rows = []
    for pid in engine_pids(marker, roots):
        rss, pss = memory(pid)
        exe = os.path.basename(cmdline(pid).split(" ", 1)[0])
        rows.append({"pid": pid, "exe": exe, "rss_kb": rss, "pss_kb": pss})
    total = {
        "label": label,
        "phase": phase,
        "processes": len(rows),
        "rss_kb": sum(r["rss_kb"] for r in rows),
        "pss_kb": sum(r["pss_kb"] for r in rows),
        "rows": rows,
    }
    print(json.dumps(total))


if __name__ == "__main__":
    main(sys.argv[1:])
