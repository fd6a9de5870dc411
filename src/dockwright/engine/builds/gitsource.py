"""`ADD <git url> <dest>`: a repository checked out as a directory source, keyed on its commit.

BuildKit's Dockerfile feature: the `#ref:subdir` of the URL is checked out (gitclone.py) and
its tree is copied to the destination; the `.git` directory only with `--keep-git-dir`. The
step's cache key holds the commit (and the subdirectory and the flag), not the files: a
rebuild of the same commit hits the cache, a new commit on the ref misses it. The checkout
is made in the step's scratch directory, which the build removes.
"""

from __future__ import annotations

import asyncio
import posixpath
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dockwright.builder import context as ctx
from dockwright.builder import gitref
from dockwright.builder.context import Source
from dockwright.builder.ignore import Pattern
from dockwright.engine.builds.gitclone import clone

Entry = tuple[str, int, str]  # (name, mode, digest) as builder/context.py hashes sources


@dataclass(frozen=True)
class GitSource:
    source: Source
    key: str  # what the cache key holds instead of the files' digests


async def fetch_git_sources(scratch: Path, patterns: list[str],
                            keep_git_dir: bool) -> dict[int, GitSource]:  # fmt: skip
    """The git repositories among ADD's source `patterns`, by position, checked out."""
    found = {}
    for index, pattern in enumerate(patterns):
        if gitref.is_add_source(pattern):
            scratch.mkdir(parents=True, exist_ok=True)  # (a step's triggers share its number)
            where = Path(tempfile.mkdtemp(prefix=f"git-{index}-", dir=scratch)) / "tree"
            found[index] = await checkout_source(where, pattern, keep_git_dir)
    return found


async def checkout_source(directory: Path, url: str, keep_git_dir: bool) -> GitSource:
    ref = gitref.parse(url)
    checkout = await clone(ref, directory)
    if not keep_git_dir:
        await asyncio.to_thread(shutil.rmtree, checkout.root / ".git", True)
    name = posixpath.basename(ref.remote.rstrip("/")).removesuffix(".git") or "repo"
    key = f"git:{checkout.commit}:{ref.subdir}:keep={keep_git_dir}"
    return GitSource(Source(checkout.context, name, True, remote=True), key)


def hash_sources(sources: list[Source], exclude: list[Pattern],
                 gits: dict[int, GitSource]) -> list[Entry]:  # fmt: skip
    """Blocking: builder/context.py's entries, one per git checkout (its key) instead of one
    per file in it."""
    if not gits:
        return ctx.hash_sources(sources, exclude)
    keys = {git.source.where: git.key for git in gits.values()}
    entries: list[Entry] = []
    for src in sources:
        if src.where in keys and src.tree is None:
            entries.append((src.name, stat.S_IFDIR | 0o755, keys[src.where]))
        else:
            entries.extend(ctx.hash_sources([src], exclude))
    return entries
