"""What every kind of build step shares: the cache lookup, committing an image, advancing.

`cached` is where a step learns whether it can be skipped, and says so: it emits a `cached` or
`miss` step event (with the reason, see builder/explain.py) on the stage's stream, tries the
`--cache-from` images when the cache has no entry, and keeps the step's inputs so `advance`
can record them next to the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from dockwright.builder.cache import step_key
from dockwright.builder.cachefrom import find_restorable
from dockwright.builder.explain import StepRecord, explain_miss, file_map, visible_args
from dockwright.builder.history import child_config, epoch_key
from dockwright.engine.builds.cache import BuildCache
from dockwright.engine.builds.commit import commit_image
from dockwright.engine.builds.state import BuildRun, Message, StageState, out
from dockwright.engine.containers.service import ContainerService
from dockwright.engine.images import ImageService
from dockwright.errors import NotFound
from dockwright.image import config as cfg

FileEntries = Sequence[tuple[str, int, str]]


class StepRunner:
    """The services a step needs, and the cache/commit mechanics common to all steps."""

    def __init__(
        self, containers: ContainerService, images: ImageService, cache: BuildCache
    ) -> None:
        self.containers, self.images, self.cache = containers, images, cache

    async def cached(self, build: BuildRun, state: StageState, key: str, created_by: str = "",
                     config: dict[str, Any] | None = None, files: FileEntries | None = None,
                     source: str = "") -> bool:  # fmt: skip
        """On a hit (cache entry, or a `--cache-from` image holding the step), move the stage
        to that image and say True; on a miss, say why on the stream and remember the inputs.

        `created_by` (the history line) and `config` (the config the step leaves, default the
        stage's) let a cache-from image serve the step; `files` (`hash_sources` entries) and
        `source` (a COPY --from image) let a later miss name what changed."""
        record = self._record(state, files, source)
        if not build.opts.no_cache and self._hit(state, key):
            state.emit(state.event(build.step, "cached"))
            return True
        if not build.opts.no_cache and created_by:
            restored = await self._restore(build, state, created_by, config)
            if restored is not None:
                state.pending = (key, record)
                self.advance(state, key, restored)
                state.emit(state.event(build.step, "cached", source="cache-from"))
                return True
        reason = explain_miss(record, self.cache.records_for(state.image_id),
                              no_cache=build.opts.no_cache, parent_missed=state.missed)  # fmt: skip
        state.emit(state.event(build.step, "miss", reason=reason))
        state.missed, state.pending = True, (key, record)
        return False

    def _record(self, state: StageState, files: FileEntries | None, source: str) -> StepRecord:
        keyword = state.instruction.split(None, 1)[0].lower() if state.instruction else ""
        args = visible_args(keyword, state.instruction, state.args)
        return StepRecord(state.image_id, state.instruction, args, file_map(files or ()), source)

    def _hit(self, state: StageState, key: str) -> bool:
        key = epoch_key(key, state.epoch)
        hit = self.cache.get(key)
        if hit is None:
            return False
        self.cache.touch(key)
        state.image_id, state.full = hit, self.images.image_config(hit)
        return True

    async def _restore(self, build: BuildRun, state: StageState, created_by: str,
                       config: dict[str, Any] | None) -> str | None:  # fmt: skip
        """The step's image rebuilt from a cache-from image's history, or None."""
        found = find_restorable(state.full, build.cache_sources, created_by)
        if found is None:
            return None
        wanted = state.config if config is None else config
        full = child_config(state.full, wanted, created_by, found.diff_id,
                            str(found.entry.get("created") or cfg.format_time(0)))  # fmt: skip
        return await asyncio.to_thread(self.images.store.create, cfg.encode(full), state.image_id)

    def advance(self, state: StageState, key: str, image_id: str) -> None:
        """Record the step's image under its key and make it the stage's current image."""
        pending, state.pending = state.pending, None
        record = pending[1] if pending is not None and pending[0] == key else None
        self.cache.put(epoch_key(key, state.epoch), image_id, record)
        state.image_id, state.full = image_id, self.images.image_config(image_id)

    async def metadata_step(self, build: BuildRun, state: StageState, config: dict[str, Any],
                            created_by: str) -> AsyncIterator[Message]:  # fmt: skip
        """A step that only changes the config: an image without a layer."""
        key = step_key(state.image_id, created_by, config)
        if await self.cached(build, state, key, created_by, config):
            yield out(build, " ---> Using cache\n")
            return
        image_id = await asyncio.to_thread(self.commit, state, config, created_by, None)
        self.advance(state, key, image_id)

    def resolve(self, name: str) -> str:
        """The local image `name` names (COPY --from an image)."""
        try:
            return self.images.resolve(name)[0]
        except NotFound:
            raise NotFound(f"pull access denied for {name}, repository does not exist or may require "
                           "'docker login': no such image in the local store") from None  # fmt: skip

    def commit(self, state: StageState, config: dict[str, Any], created_by: str,
               upper: Path | None) -> str:  # fmt: skip
        """Blocking: the step's image (a layer from `upper`, or metadata only when None)."""
        return commit_image(self.images, state, config, created_by, upper)
