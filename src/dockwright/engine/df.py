"""`docker system df`: what images, containers, volumes and the build cache take on disk.

Sizes are true sizes: image layers from the layer store (a layer shared by several images is
counted once in `layers_size`), containers' writable layers by walking their upper directories.
The walk is slow on big layers, so it runs in a worker thread, one container at a time. The
build cache reports itself (engine/builds/cache.py), so its figures and `builder prune` agree.
"""

from __future__ import annotations

import asyncio
import builtins
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from dockwright.engine.containers.views import ContainerView
from dockwright.engine.images import ImageUsage
from dockwright.errors import InvalidParameter
from dockwright.types.container import Container

KINDS = ("container", "image", "volume", "build-cache")


class ImagesPort(Protocol):
    def list(self, all: bool = False, filters: dict[str, list[str]] | None = None,
             shared_size: bool = False) -> builtins.list[dict[str, Any]]: ...  # fmt: skip

    def images_in_use(self) -> dict[str, builtins.list[tuple[str, bool]]]: ...

    def image_size(self, image_id: str) -> int: ...

    def usage(self) -> ImageUsage: ...


class ContainersPort(Protocol):
    def list(self, *, all: bool, limit: int, filters: dict[str, list[str]]) -> list[Container]: ...

    def view(self, c: Container, size: bool = False) -> ContainerView: ...


class BuildCachePort(Protocol):
    async def records(self) -> builtins.list[dict[str, Any]]: ...


@dataclass(frozen=True)
class DiskUsage:
    """One answer; a kind that was not asked for is None (Docker sends null for it)."""

    layers_size: int | None
    images: list[dict[str, Any]] | None
    containers: list[ContainerView] | None
    volumes: list[dict[str, Any]] | None
    build_cache: list[dict[str, Any]] | None


def parse_kinds(values: list[str]) -> frozenset[str]:
    """The `type` query values; none means every kind. InvalidParameter names a bad one."""
    for v in values:
        if v not in KINDS:
            raise InvalidParameter(f"unknown object type: {v}")
    return frozenset(values or KINDS)


def with_container_counts(
    images: list[dict[str, Any]], users: dict[str, list[tuple[str, bool]]]
) -> list[dict[str, Any]]:
    """ImageSummary items with `Containers` set to how many containers use each image."""
    return [{**img, "Containers": len(users.get(img["Id"], []))} for img in images]


def upper_size(upper: Path) -> int:
    """Bytes in a writable layer (hard links once); 0 when the layer is already gone."""
    from dockwright.engine.containers.service import tree_size

    return tree_size(upper) if upper.exists() else 0


class DiskUsageService:
    """Reads the image and container services; owns nothing and changes nothing."""

    def __init__(self, images: ImagesPort, containers: ContainersPort,
                 build_cache: BuildCachePort | None = None) -> None:  # fmt: skip
        self.images = images
        self.containers = containers
        self.build_cache = build_cache

    async def disk_usage(self, kinds: frozenset[str]) -> DiskUsage:
        images = "image" in kinds
        return DiskUsage(
            layers_size=self.images.usage().layers_size if images else None,
            images=self._images() if images else None,
            containers=await self._containers() if "container" in kinds else None,
            volumes=[] if "volume" in kinds else None,
            build_cache=await self._build_cache() if "build-cache" in kinds else None,
        )

    def _images(self) -> list[dict[str, Any]]:
        found = self.images.list(shared_size=True)
        return with_container_counts(found, self.images.images_in_use())

    async def _build_cache(self) -> list[dict[str, Any]]:
        """Step entries and cache mounts (engine/builds/usage.py decides Shared, InUse, Size)."""
        return [] if self.build_cache is None else await self.build_cache.records()

    async def _containers(self) -> list[ContainerView]:
        out = []
        for c in self.containers.list(all=True, limit=0, filters={}):
            view = self.containers.view(c)
            rw = await asyncio.to_thread(upper_size, view.upper_dir)
            root = rw + self.images.image_size(c.image_id)
            out.append(replace(view, size_rw=rw, size_root_fs=root))
        return out
