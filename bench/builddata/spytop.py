#!/usr/bin/env python3
"""The top functions of a py-spy profile in raw (collapsed stack) form, as markdown.

Usage: spytop.py RAW RATE [N]  (RATE: py-spy's samples per second; N rows, default 20)

Two views: *inclusive* (a function with everything it calls: where a step's time goes, counted
once per sample even when recursive) and *self* (the innermost frame: what burns the CPU or
waits). The profile is taken with --idle, so a sample is a thread at a moment, running or
blocked: seconds are thread-seconds of wall time, summed over the daemon's threads. Stacks
that end in an idle wait (IDLE: the event loop in select, a pool thread waiting for work) are
left out: they are not the build's time.
"""

from __future__ import annotations

import re
import sys
from collections import Counter

IDLE = {
    "selectors.py:EpollSelector.select",
    "threading.py:Condition.wait",
    "thread.py:_worker",
    "threading.py:Event.wait",
}
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def short(frame: str) -> str:
    """`func (path/to/mod.py:12)` as `mod.py:func`, the line number dropped so lines add up."""
    m = FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    if "/dockwright/" in path:
        path = "dockwright/" + path.split("/dockwright/", 1)[1]
    elif not path.startswith("dockwright/"):
        path = path.rsplit("/", 1)[-1]
    return f"{path}:{m.group('func')}"


def load(path: str) -> tuple[Counter[str], Counter[str], int]:
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    total = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = [short(s) for s in stack.split(";") if s.strip()]
            frames = [s for s in frames if not s.startswith(("process ", "thread "))]
            if not frames or frames[-1] in IDLE:
                continue
            total += n
            self_[frames[-1]] += n
            for name in set(frames):
                inclusive[name] += n
    return inclusive, self_, total


def rows(title: str, counts: Counter[str], total: int, rate: float, n: int,
         only_ours: bool) -> list[str]:  # fmt: skip
    out = [f"| {title} | thread-s | % of samples |", "|---|---:|---:|"]
    picked = [
        (k, v) for k, v in counts.most_common() if not only_ours or k.startswith("dockwright/")
    ]
    for name, count in picked[:n]:
        out.append(f"| `{name}` | {count / rate:.2f} | {100 * count / total:.1f} |")
    return out


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rate = float(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    inclusive, self_, total = load(sys.argv[1])
    print(f"{total} samples not idle = {total / rate:.2f} thread-seconds.\n")
    print("\n".join(rows("inclusive (dockwright frames)", inclusive, total, rate, n, True)))
    print()
    print("\n".join(rows("self (innermost frame)", self_, total, rate, n, False)))


if __name__ == "__main__":
    main()
