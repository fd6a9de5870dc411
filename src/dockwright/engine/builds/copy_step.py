"""COPY and ADD: write the sources into the stage image's root and commit what was written.

No container is involved: the root is an overlay of the image's layers mounted for the step
(scratchroot.py), its upper directory becomes the layer by a rename (image/fromdir.py).

The step's cache key is computed after its sources are known: the content of the copied files
(an ADD URL is downloaded first, as Docker does, and keyed on its bytes and Last-Modified; an
ADD git repository is checked out first and keyed on its commit, gitsource.py), the
destination, and every flag (--chown, --chmod, --exclude, --parents, --link, --checksum).
`--link` makes the same plain diff layer as a copy without it (see builder/copyflags.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

from dockwright.builder import context as ctx
from dockwright.builder import copy as cp
from dockwright.builder import steps
from dockwright.builder.cache import content_digest, step_key
from dockwright.builder.context import Source
from dockwright.builder.copyflags import CopyFlags, copy_flags
from dockwright.builder.expand import expand_word
from dockwright.builder.fetch import download
from dockwright.builder.parser import Instruction
from dockwright.engine.builds.base import StepRunner
from dockwright.engine.builds.gitsource import GitSource, fetch_git_sources, hash_sources
from dockwright.engine.builds.scratchroot import ScratchRoot
from dockwright.engine.builds.state import BuildRun, Message, StageState, out
from dockwright.engine.images import ImageService


class CopySteps(StepRunner):
    async def copy(self, build: BuildRun, state: StageState, ins: Instruction,
                   env: dict[str, str]) -> AsyncIterator[Message]:  # fmt: skip
        words = cp.copy_words(ins, env, build.escape)
        flags = copy_flags(ins, words[:-1], env, build.escape)
        source_image = self._copy_from(build, expand_word(ins.flag("from"), env, build.escape))
        gits = await self._git_sources(build, ins, words[:-1], flags)
        async with ImageRoot(self.images, source_image) as src_root:
            spec = await self._spec(build, state, ins, env, words, flags, src_root, gits)
            sources = list(spec.sources)
            entries = (
                []
                if source_image
                else await asyncio.to_thread(hash_sources, sources, list(spec.exclude), gits)
            )
            hashed = source_image or content_digest(entries)
            created_by = steps.nop(
                f"{ins.keyword.upper()} {cp.source_kind(sources)}:{hashed} in {spec.dest} "
            )
            options = f"{spec.chown}:{spec.chmod}:{spec.unpack}:{flags.cache_text()}"
            key = step_key(state.image_id, created_by + options, state.config, hashed)
            if await self.cached(build, state, key, created_by, files=entries, source=source_image):
                yield out(build, " ---> Using cache\n")
                return
            image_id = await self._write_layer(state, spec, created_by)
        self.advance(state, key, image_id)

    async def _spec(self, build: BuildRun, state: StageState, ins: Instruction,
                    env: dict[str, str], words: list[str], flags: CopyFlags,
                    src_root: Path | None, gits: dict[int, GitSource]) -> cp.CopySpec:  # fmt: skip
        """The sources found (in the context, or the `--from` image's root `src_root`; URLs
        downloaded), and where and how they are written."""
        scratch = build.scratch(build.step)
        sources = await asyncio.to_thread(
            ctx.find_all, src_root or build.root, words[:-1], ins, scratch, flags,
            partial(fetch_url, scratch, flags.checksum, gits),
        )  # fmt: skip
        return cp.CopySpec(
            tuple(sources), cp.destination(words[-1], state.config.get("WorkingDir") or "/"),
            expand_word(ins.flag("chown"), env, build.escape), cp.parse_chmod(ins.flag("chmod")),
            ins.keyword == "add", flags.parents, tuple(flags.patterns()),
        )  # fmt: skip

    async def _git_sources(self, build: BuildRun, ins: Instruction, patterns: list[str],
                           flags: CopyFlags) -> dict[int, GitSource]:  # fmt: skip
        """ADD's git repositories, checked out before the sources are looked up."""
        if ins.keyword != "add":
            return {}
        return await fetch_git_sources(build.scratch(build.step), patterns, flags.keep_git_dir)

    def _copy_from(self, build: BuildRun, source: str) -> str:
        if not source:
            return ""
        return build.stage_images.get(source.lower()) or self.resolve(source)

    async def _write_layer(self, state: StageState, spec: cp.CopySpec, created_by: str) -> str:
        """Write into a scratch root over the stage's image and commit its upper dir."""
        async with ScratchRoot(self.images.store, state.image_id, writable=True) as root:
            left = await asyncio.to_thread(cp.copy_sources, root.merged, spec, True)
            await asyncio.to_thread(root.unmount)
            if left is not None:  # a directory into a new one: written past the overlay
                await asyncio.to_thread(cp.write_deferred, root.upper, left, spec)
            return await asyncio.to_thread(self.commit, state, state.config, created_by, root.upper)


def fetch_url(scratch: Path, checksum: str, gits: dict[int, GitSource], url: str,
              index: int) -> Source:  # fmt: skip
    """Blocking: download ADD's `index`th source into the step's scratch directory (a git
    repository is already checked out)."""
    if index in gits:
        return gits[index].source
    got = download(url, scratch / f"url-{index}", checksum)
    return Source(got.path, got.name, False, remote=True)


class ImageRoot:
    """`async with`: the root filesystem of `image_id` (None for no image), read-only and
    without a container (COPY --from)."""

    def __init__(self, images: ImageService, image_id: str) -> None:
        self.root = ScratchRoot(images.store, image_id, writable=False) if image_id else None

    async def __aenter__(self) -> Path | None:
        if self.root is None:
            return None
        return (await self.root.__aenter__()).merged

    async def __aexit__(self, *exc: object) -> None:
        if self.root is not None:
            await self.root.__aexit__(*exc)
