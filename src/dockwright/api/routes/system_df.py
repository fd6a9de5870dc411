"""`GET /system/df`: the disk usage report in Docker's JSON shape (`types.DiskUsage`)."""

from __future__ import annotations

from typing import Any, Protocol

from dockwright.api.http import Request, Response, json_response
from dockwright.api.router import Route
from dockwright.api.schema.containers import summary_json
from dockwright.engine.df import DiskUsage, parse_kinds


class DiskUsageBackend(Protocol):
    async def disk_usage(self, kinds: frozenset[str]) -> DiskUsage: ...


def _image_json(item: dict[str, Any], version: tuple[int, int]) -> dict[str, Any]:
    """VirtualSize went away in API 1.44."""
    return {**item, "VirtualSize": item["Size"]} if version < (1, 44) else item


def disk_usage_json(du: DiskUsage, version: tuple[int, int]) -> dict[str, Any]:
    """Docker's field order; kinds that were not asked for are null."""
    images = du.images
    containers = du.containers
    return {
        "LayersSize": du.layers_size or 0,
        "Images": None if images is None else [_image_json(i, version) for i in images],
        "Containers": None if containers is None else [summary_json(v, True) for v in containers],
        "Volumes": du.volumes,
        "BuildCache": du.build_cache,
    }


def system_df_routes(backend: DiskUsageBackend) -> list[Route]:
    async def df(req: Request) -> Response:
        kinds = req.query.getall("type") if req.version >= (1, 42) else []
        du = await backend.disk_usage(parse_kinds(kinds))
        return json_response(disk_usage_json(du, req.version))

    return [Route("GET", "/system/df", df, (1, 25))]
