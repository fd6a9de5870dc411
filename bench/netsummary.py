"""Summarise network.sh: pooled medians of the hyperfine rounds and of the throughput rounds.

Usage: netsummary.py network-raw.tsv net-run-1.json [net-run-2.json ...]
Prints a markdown report with the goal ratios (run ≤ 1/4 of dockerd; throughput ≥ dockerd).
"""

import csv
import json
import statistics
import sys
from collections import defaultdict


def run_medians(paths: list[str]) -> dict[str, list[float]]:
    """Every sample of every round, per command label (seconds)."""
    times: dict[str, list[float]] = defaultdict(list)
    for path in paths:
        with open(path) as f:
            for r in json.load(f)["results"]:
                times[r["command"]] += r["times"]
    return times


def round_ratios(paths: list[str]) -> list[str]:
    """Each round's dockwrightd/dockerd median ratio, to show how stable the pooled one is."""
    out = []
    for path in paths:
        with open(path) as f:
            rs = json.load(f)["results"]
        dw = next(r["median"] for r in rs if r["command"].startswith("dockwrightd"))
        dk = next(r["median"] for r in rs if r["command"].startswith("dockerd"))
        out.append(f"{dw / dk:.3f}")
    return out


def tput(path: str) -> dict[tuple[str, str, str], list[float]]:
    rows: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows[(r["address"], r["direction"], r["engine"])].append(float(r["MB_per_s"]))
    return rows


def main() -> None:
    times = run_medians(sys.argv[2:])
    print("## docker run --rm busybox true, default bridge network\n")
    print("| command | samples | median ms | min ms |\n|---|---|---|---|")
    med = {}
    for label, ts in times.items():
        med[label] = statistics.median(ts)
        print(f"| {label} | {len(ts)} | {med[label] * 1e3:.1f} | {min(ts) * 1e3:.1f} |")
    dw = next(v for k, v in med.items() if k.startswith("dockwrightd"))
    dk = next(v for k, v in med.items() if k.startswith("dockerd"))
    verdict = "met" if dw <= dk / 4 else "missed"
    print(f"\nper round (dockwrightd / dockerd medians): {', '.join(round_ratios(sys.argv[2:]))}")
    print(f"\ndockwrightd / dockerd = {dw / dk:.3f} (goal ≤ 0.25: {verdict})\n")
    print("## TCP throughput through a published port (MB/s, median of rounds)\n")
    print("| address | direction | dockwrightd | dockerd (docker-proxy) | ratio | goal ≥ 1 |")
    print("|---|---|---|---|---|---|")
    rows = tput(sys.argv[1])
    for addr, direction in sorted({(a, d) for a, d, _ in rows}):
        a = statistics.median(rows[(addr, direction, "dw")])
        b = statistics.median(rows[(addr, direction, "dk")])
        n = len(rows[(addr, direction, "dw")])
        ok = "met" if a >= b else "missed"
        print(f"| {addr} | {direction} (n={n}) | {a:.0f} | {b:.0f} | {a / b:.2f} | {ok} |")


if __name__ == "__main__":
    main()
