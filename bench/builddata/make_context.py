#!/usr/bin/env python3
"""Write the benchmark's build context: ~20 MB of mixed files, the same bytes on every run.

Usage: make_context.py DIR  (DIR must not exist; the Dockerfile is copied in by build.sh)

A few big files (random, so incompressible, and text, so compressible) and many small ones in a
tree of directories, because a builder's cost differs between the two: big files are bound by
copy and hash throughput, small ones by per-file overhead (tar headers, stat, create, chmod).
A seeded generator keeps the context identical across runs and engines.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

SEED = 20261122
BIG = [("big/blob-a.bin", 5 << 20, "random"), ("big/blob-b.bin", 3 << 20, "random"),
       ("big/corpus.txt", 2 << 20, "text")]  # fmt: skip
SMALL_DIRS = 40  # small/d00 .. small/d39
SMALL_PER_DIR = 50
SMALL_SIZES = (512, 9 * 1024)  # uniform; ~4.8 KiB mean, ~9.5 MiB in all
WORDS = [
    "build",
    "layer",
    "cache",
    "stage",
    "copy",
    "run",
    "image",
    "context",
    "digest",
    "overlay",
    "commit",
    "parent",
]


def text(rng: random.Random, size: int) -> bytes:
    """Compressible, line-structured bytes like source code or logs."""
    out = bytearray()
    while len(out) < size:
        out += (" ".join(rng.choices(WORDS, k=rng.randint(3, 12))) + "\n").encode()
    return bytes(out[:size])


def content(rng: random.Random, size: int, kind: str) -> bytes:
    return rng.randbytes(size) if kind == "random" else text(rng, size)


def write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make(root: Path) -> int:
    """Write every file under `root`; return the total bytes written."""
    rng = random.Random(SEED)
    total = 0
    for rel, size, kind in BIG:
        write(root, rel, content(rng, size, kind))
        total += size
    for d in range(SMALL_DIRS):
        for f in range(SMALL_PER_DIR):
            size = rng.randint(*SMALL_SIZES)
            kind = "random" if f % 3 == 0 else "text"
            write(root, f"small/d{d:02d}/f{f:03d}.{'bin' if kind == 'random' else 'txt'}",
                  content(rng, size, kind))  # fmt: skip
            total += size
    write(root, "app/main.sh", b"#!/bin/sh\necho bench app\n")
    (root / "app/main.sh").chmod(0o755)
    write(root, ".dockerignore", b"scratch/\n**/*.tmp\n")
    write(root, "scratch/ignored.bin", rng.randbytes(1 << 20))  # excluded by .dockerignore
    write(root, "small/d00/editor.tmp", b"excluded\n")
    return total


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = Path(sys.argv[1])
    root.mkdir(parents=True)
    total = make(root)
    print(f"{total / 1e6:.1f} MB in {sum(1 for p in root.rglob('*') if p.is_file())} files")


if __name__ == "__main__":
    main()
