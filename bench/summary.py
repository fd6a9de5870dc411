#!/usr/bin/env python3
"""Medians from hyperfine's JSON exports and the ratios the issue sets as goals.

Usage: summary.py RESULT.json...  (prints a markdown table and the goal verdicts)

Samples of the same command label in several files (rounds) are pooled before the median.
"""

from __future__ import annotations

import json
import statistics
import sys

# (dockwright label, dockerd label, goal: dockwright median <= goal * dockerd median)
GOALS = [
    ("dockwrightd: run --rm --network none", "dockerd: run --rm --network none", 0.25),
    ("dockwrightd: run --rm (default net)", "dockerd --bridge=none: run --rm (default net)", 0.25),
    ("dockwrightd: exec true", "dockerd: exec true", 0.5),
]


def load(paths: list[str]) -> dict[str, dict]:
    """Every command label with the statistics of its pooled samples (seconds)."""
    times: dict[str, list[float]] = {}
    for path in paths:
        with open(path) as f:
            for r in json.load(f)["results"]:
                times.setdefault(r["command"], []).extend(r["times"])
    return {name: stats(ts) for name, ts in times.items()}


def stats(ts: list[float]) -> dict:
    return {
        "median": statistics.median(ts),
        "mean": statistics.fmean(ts),
        "stddev": statistics.stdev(ts) if len(ts) > 1 else 0.0,
        "min": min(ts),
        "max": max(ts),
        "times": ts,
    }


def table(results: dict[str, dict]) -> list[str]:
    lines = [
        "| command | median ms | mean ± sd ms | min ms | max ms | runs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['median'] * 1e3:.1f} | {r['mean'] * 1e3:.1f} ± {r['stddev'] * 1e3:.1f}"
            f" | {r['min'] * 1e3:.1f} | {r['max'] * 1e3:.1f} | {len(r['times'])} |"
        )
    return lines


def verdicts(results: dict[str, dict]) -> list[str]:
    lines = [
        "| comparison | dockwright ms | dockerd ms | ratio | goal | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for ours, theirs, goal in GOALS:
        if ours not in results or theirs not in results:
            continue
        a, b = results[ours]["median"], results[theirs]["median"]
        ratio = a / b
        met = "yes" if ratio <= goal else "**no**"
        lines.append(
            f"| {ours} vs dockerd | {a * 1e3:.1f} | {b * 1e3:.1f} | {ratio:.2f} | ≤ {goal:.2f} | {met} |"
        )
    return lines


def main(argv: list[str]) -> None:
    results = load(argv)
    print("\n".join(table(results)))
    print()
    print("\n".join(verdicts(results)))


if __name__ == "__main__":
    main(sys.argv[1:])
