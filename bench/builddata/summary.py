#!/usr/bin/env python3
"""Medians of bench/build.sh's raw timings and the issue 7 goal verdicts, as markdown.

Usage: summary.py build-raw.tsv [NOTE]  (NOTE: why dockerd's BuildKit rows are missing, if so)

Goal: dockwrightd's cold build <= 0.8x and cached rebuild <= 0.5x the median of the faster of
dockerd's builders (legacy and BuildKit, whichever of them ran).
"""

from __future__ import annotations

import csv
import statistics
import sys

NAMES = {
    "dw": "dockwrightd (docker CLI)",
    "dwc": "dockwrightd (`dockwright build`, context sync)",
    "dwt": "dockwrightd (`tar | curl`, as the BuildKit rows)",
    "dk": "dockerd legacy (DOCKER_BUILDKIT=0)",
    "bk": "dockerd BuildKit",
}
OURS = ("dw", "dwc", "dwt")
GOALS = {"cold": 0.8, "cached": 0.5}


def medians(path: str) -> tuple[dict[tuple[str, str], list[float]], int]:
    """Samples per (engine, op), and the number of rounds."""
    samples: dict[tuple[str, str], list[float]] = {}
    rounds = set()
    with open(path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            samples.setdefault((row["engine"], row["op"]), []).append(float(row["seconds"]))
            rounds.add(row["round"])
    return samples, len(rounds)


def table(samples: dict[tuple[str, str], list[float]]) -> list[str]:
    lines = ["| builder | cold median (s) | cold min–max | cached median (s) | cached min–max |",
             "|---|---:|---|---:|---|"]  # fmt: skip
    for e, name in NAMES.items():
        if (e, "cold") not in samples:
            continue
        cells = [name]
        for op in GOALS:
            s = samples[(e, op)]
            cells += [f"{statistics.median(s):.3f}", f"{min(s):.3f}–{max(s):.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def verdicts(samples: dict[tuple[str, str], list[float]]) -> list[str]:
    lines = ["| build | client | dockwrightd (s) | faster dockerd builder (s) | ratio | goal | met |",
             "|---|---|---:|---|---:|---|---|"]  # fmt: skip
    for op, goal in GOALS.items():
        theirs = {
            e: statistics.median(samples[(e, op)]) for e in ("dk", "bk") if (e, op) in samples
        }
        best = min(theirs, key=lambda e: theirs[e])
        for e in (e for e in OURS if (e, op) in samples):
            ours = statistics.median(samples[(e, op)])
            ratio = ours / theirs[best]
            met = "met" if ratio <= goal else "missed"
            lines.append(f"| {op} | {NAMES[e]} | {ours:.3f} | {theirs[best]:.3f} ({NAMES[best]}) "
                         f"| {ratio:.2f} | ≤ {goal}× | {met} |")  # fmt: skip
    return lines


def main() -> None:
    samples, rounds = medians(sys.argv[1])
    note = sys.argv[2] if len(sys.argv) > 2 else ""
    print(f"Medians of {rounds} rounds (wall seconds of the client command).\n")
    print("\n".join(table(samples)))
    print()
    print("\n".join(verdicts(samples)))
    if note:
        print(f"\ndockerd BuildKit not measured: {note}")


if __name__ == "__main__":
    main()
