"""What every kind of build step shares: the cache lookup, committing an image, advancing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from dockwright.builder.cache import step_key
from dockwright.engine.builds.cache import BuildCache
from dockwright.engine.builds.commit import commit_image
from dockwright.engine.builds.state import BuildRun, Message, StageState, out
from dockwright.engine.containers.service import ContainerService
from dockwright.engine.images import ImageService
from dockwright.errors import NotFound


class StepRunner:
    """The services a step needs, and the cache/commit mechanics common to all steps."""

    def __init__(
        self, containers: ContainerService, images: ImageService, cache: BuildCache
    ) -> None:
        self.containers, self.images, self.cache = containers, images, cache

    async def cached(self, build: BuildRun, state: StageState, key: str) -> bool:
        """On a hit, move the stage to the cached image and say True."""
        if build.opts.no_cache:
            return False
        hit = self.cache.get(key)
        if hit is None:
            return False
        state.image_id, state.full = hit, self.images.image_config(hit)
        return True

    def advance(self, state: StageState, key: str, image_id: str) -> None:
        """Record the step's image under its key and make it the stage's current image."""
        self.cache.put(key, image_id)
        state.image_id, state.full = image_id, self.images.image_config(image_id)

    async def metadata_step(self, build: BuildRun, state: StageState, config: dict[str, Any],
                            created_by: str) -> AsyncIterator[Message]:  # fmt: skip
        """A step that only changes the config: an image without a layer."""
        key = step_key(state.image_id, created_by, config)
        if await self.cached(build, state, key):
            yield out(build, " ---> Using cache\n")
            return
        image_id = await asyncio.to_thread(self.commit, state, config, created_by, None)
        self.advance(state, key, image_id)

    def resolve(self, name: str) -> str:
        """The local image `name` names; builds do not pull."""
        try:
            return self.images.resolve(name)[0]
        except NotFound:
            raise NotFound(f"pull access denied for {name}, repository does not exist or may require "
                           "'docker login': no such image in the local store (this daemon does not pull "
                           "during builds)") from None  # fmt: skip

    def commit(self, state: StageState, config: dict[str, Any], created_by: str,
               upper: Path | None) -> str:  # fmt: skip
        """Blocking: the step's image (a layer from `upper`, or metadata only when None)."""
        return commit_image(self.images, state, config, created_by, upper)
