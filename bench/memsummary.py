#!/usr/bin/env python3
"""The memory table for RESULTS.md from memory.sh's JSON lines.

Usage: memsummary.py memory.jsonl N
"""

from __future__ import annotations

import json
import sys
from collections import Counter

PHASES = ("fresh", "idle", "running", "removed")


def load(path: str) -> dict[tuple[str, str], dict]:
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {(r["label"], r["phase"]): r for r in rows}


def mib(kb: float) -> str:
    return f"{kb / 1024:.1f}"


def processes(r: dict) -> str:
    counts = Counter(row["exe"] for row in r["rows"])
    return ", ".join(f"{exe}×{n}" for exe, n in sorted(counts.items()))


def main(argv: list[str]) -> None:
    data, n = load(argv[0]), int(argv[1])
    print("| engine | phase | processes | RSS MiB | PSS MiB |")
    print("|---|---|---|---:|---:|")
    for label in ("dockwright", "docker"):
        for phase in PHASES:
            r = data.get((label, phase))
            if r:
                print(
                    f"| {label} | {phase} | {processes(r)} | {mib(r['rss_kb'])} | {mib(r['pss_kb'])} |"
                )
    print()
    print(
        "| engine | idle RSS MiB | idle PSS MiB | RSS per container MiB | PSS per container MiB |"
    )
    print("|---|---:|---:|---:|---:|")
    for label in ("dockwright", "docker"):
        idle, running = data.get((label, "idle")), data.get((label, "running"))
        if idle and running:
            per_rss = (running["rss_kb"] - idle["rss_kb"]) / n
            per_pss = (running["pss_kb"] - idle["pss_kb"]) / n
            print(
                f"| {label} | {mib(idle['rss_kb'])} | {mib(idle['pss_kb'])}"
                f" | {mib(per_rss)} | {mib(per_pss)} |"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
