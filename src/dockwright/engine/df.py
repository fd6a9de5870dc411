"""`docker system df`: what images, containers, volumes and the build cache take on disk.

Sizes are true sizes: image layers from the layer store (a layer shared by several images is
counted once in `layers_size`), containers' writable layers by walking their upper directories.
The walk is slow on big layers, so it runs in a worker thread, one container at a time.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from dockwright.engine.builds.cache import CacheEntry
from dockwright.engine.containers.views import ContainerView
from dockwright.engine.images import ImageUsage
from dockwright.errors import InvalidParameter
from dockwright.image.config import format_time
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
    def entries(self) -> builtins.list[CacheEntry]: ...


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


def _kept_images(images: list[dict[str, Any]]) -> set[str]:
    """Tagged images and every image they are built on (their parents, transitively)."""
    parents = {i["Id"]: str(i.get("ParentId") or "") for i in images}
    kept: set[str] = set()
    for img in images:
        tags = [t for t in img.get("RepoTags") or [] if t != "<none>:<none>"]
        current = img["Id"] if tags else ""
        while current and current not in kept:
            kept.add(current)
            current = parents.get(current, "")
    return kept


def cache_records(entries: list[CacheEntry], images: list[dict[str, Any]],
                  in_use: AbstractSet[str] = frozenset()) -> list[dict[str, Any]]:  # fmt: skip
    """Docker's BuildCache objects for the build cache entries. A step's size is what its image
    adds to its parent's; the record is Shared when a tagged image is built on it, InUse when a
    container runs from its image."""
    sizes = {i["Id"]: int(i.get("Size") or 0) for i in images}
    key_of = {e.image_id: e.key for e in entries}
    kept = _kept_images(images)
    out = []
    for e in entries:
        parent = key_of.get(e.parent, "")
        out.append({
            "ID": e.key, **({"Parent": parent} if parent else {}),
            "Parents": [parent] if parent else None, "Type": "regular",
            "Description": e.instruction or "build step", "InUse": e.image_id in in_use,
            "Shared": e.image_id in kept,
            "Size": max(0, sizes.get(e.image_id, 0) - sizes.get(e.parent, 0)),
            "CreatedAt": format_time(e.created_ns), "LastUsedAt": format_time(e.last_used_ns),
            "UsageCount": e.usage_count,
        })  # fmt: skip
    return out


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
            build_cache=self._build_cache() if "build-cache" in kinds else None,
        )

    def _images(self) -> list[dict[str, Any]]:
        found = self.images.list(shared_size=True)
        return with_container_counts(found, self.images.images_in_use())

    def _build_cache(self) -> list[dict[str, Any]]:
        if self.build_cache is None:
            return []
        used = frozenset(self.images.images_in_use())
        return cache_records(self.build_cache.entries(), self.images.list(all=True), used)

    async def _containers(self) -> list[ContainerView]:
        out = []
        for c in self.containers.list(all=True, limit=0, filters={}):
            view = self.containers.view(c)
            rw = await asyncio.to_thread(upper_size, view.upper_dir)
            root = rw + self.images.image_size(c.image_id)
            out.append(replace(view, size_rw=rw, size_root_fs=root))
        return out
