"""Helpers for running one scenario through both `docker` and `dockwright` and comparing.

Outputs are compared after masking what legitimately differs: ids, times, generated names and
the program's own name; runs of spaces are collapsed so masked table columns still compare.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOCKWRIGHT = str(REPO / ".venv" / "bin" / "dockwright")
DOCKER = "/usr/local/bin/docker"

_MASKS = [
    (re.compile(r"sha256:[0-9a-f]{64}"), "<DIGEST>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<ID>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<ID>"),
    (
        re.compile(
            r"(Less than a second|\d+ seconds?|About a minute|\d+ minutes|About an hour|\d+ hours)"
        ),
        "<DURATION>",
    ),
    (
        re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?( ?[+-]\d\d:?\d\d)?( [A-Z]+)?Z?"),
        "<TIME>",
    ),
    (re.compile(r"\bdockwright\b|\bdocker\b"), "<PROG>"),
    (re.compile(r" {2,}"), "  "),
]


def mask(text: str) -> str:
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


@dataclass
class Result:
    status: int
    out: str
    err: str

    def masked(self) -> tuple[int, str, str]:
        return self.status, mask(self.out), mask(self.err)


def run(
    binary: str, host: str, *args: str, stdin: str | None = None, timeout: float = 60
) -> Result:
    env = {**os.environ, "DOCKER_HOST": host}
    env.pop("DOCKWRIGHT_HOST", None)
    proc = subprocess.run(
        [binary, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=timeout,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def dockwright(host: str, *args: str, stdin: str | None = None) -> Result:
    return run(DOCKWRIGHT, host, *args, stdin=stdin)


def docker(host: str, *args: str, stdin: str | None = None) -> Result:
    return run(DOCKER, host, *args, stdin=stdin)
