#!/usr/bin/env python3
"""Per-step wall time of `docker build` output, from the client's side.

Usage:
  ... | steptimes.py stamp >LOG             prefix every line with seconds since start
  steptimes.py table LABEL=LOG...           markdown table: each Dockerfile step's duration

A step lasts from its "Step N/M : ..." line to the next step's line (the last one to the last
line of output, "Successfully tagged"). "context" is the time until Step 1: the CLI tars and
uploads the context and the daemon reads it before it prints the first step. "after the last
line" is the time from the last line to the end of the response (the CLI exits): what the
daemon does after its last message, such as removing the build's scratch directory. The CLI prints
each line as the daemon streams it, so the stamps are the daemon's progress plus a little
client and socket latency.
"""

from __future__ import annotations

import re
import sys
import time

STEP = re.compile(r"^Step (\d+)/\d+ : (.*)$")
EOF = "(end of output)"
TAIL = "after the last line"


def stamp() -> None:
    """Copy stdin to stdout, each line prefixed with elapsed seconds and a tab."""
    t0 = time.monotonic()
    for line in sys.stdin:
        sys.stdout.write(f"{time.monotonic() - t0:.3f}\t{line}")
        sys.stdout.flush()
    sys.stdout.write(f"{time.monotonic() - t0:.3f}\t{EOF}\n")


def durations(path: str) -> tuple[dict[str, float], dict[str, str]]:
    """Seconds per step number ("context" first, "total" last) and each step's text."""
    marks: list[tuple[str, float]] = [("context", 0.0)]
    texts: dict[str, str] = {}
    end = last = 0.0
    with open(path, newline="\n") as f:  # a "\r" in the output is not a new line
        for raw in f:
            at, _, line = raw.rstrip("\n").partition("\t")
            if not line:
                continue
            end = float(at)
            if line == EOF:
                break
            last = end
            m = STEP.match(line)
            if m:
                marks.append((m.group(1), end))
                texts[m.group(1)] = m.group(2)
    out = {name: nxt[1] - t for (name, t), nxt in zip(marks, marks[1:] + [("", last)], strict=True)}
    out[TAIL] = end - last
    out["total"] = end
    return out, texts


def table(pairs: list[str]) -> None:
    labels = [p.partition("=")[0] for p in pairs]
    runs = [durations(p.partition("=")[2]) for p in pairs]
    texts: dict[str, str] = {}
    for _, t in runs:
        texts.update(t)
    print("| step | " + " | ".join(f"{label} (s)" for label in labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for name in ["context", *sorted(texts, key=int), TAIL, "total"]:
        text = (f"{name} {texts[name][:60]}" if name in texts else name).replace("|", "\\|")
        cells = [f"{d.get(name, float('nan')):.2f}" for d, _ in runs]
        print(f"| {text} | " + " | ".join(cells) + " |")


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "stamp":
        stamp()
    elif len(sys.argv) >= 3 and sys.argv[1] == "table":
        table(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
