"""The disk usage service and its wire shape, over fake image and container services."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from dockwright.api.routes.system_df import disk_usage_json
from dockwright.engine.df import (
    DiskUsageService,
    parse_kinds,
    upper_size,
    with_container_counts,
)
from dockwright.engine.images import ImageUsage
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit


class FakeImages:
    def list(self, all: bool = False, filters: dict[str, list[str]] | None = None,
             shared_size: bool = False) -> list[dict[str, Any]]:  # fmt: skip
        assert shared_size and not all
        return [{"Id": "sha256:a", "Size": 10, "SharedSize": 0, "Containers": -1},
                {"Id": "sha256:b", "Size": 20, "SharedSize": 0, "Containers": -1}]  # fmt: skip

    def images_in_use(self) -> dict[str, list[tuple[str, bool]]]:
        return {"sha256:b": [("c1", True), ("c2", False)]}

    def image_size(self, image_id: str) -> int:
        return 0

    def usage(self) -> ImageUsage:
        return ImageUsage(25, {}, {})


class NoContainers:
    def list(self, *, all: bool, limit: int, filters: dict[str, list[str]]) -> list[Any]:
        return []

    def view(self, c: Any, size: bool = False) -> Any:
        raise AssertionError("no containers")


def test_every_kind_by_default() -> None:
    svc = DiskUsageService(FakeImages(), NoContainers())
    du = asyncio.run(svc.disk_usage(parse_kinds([])))
    body = disk_usage_json(du, (1, 45))
    assert list(body) == ["LayersSize", "Images", "Containers", "Volumes", "BuildCache"]
    assert body["LayersSize"] == 25
    assert [i["Containers"] for i in body["Images"]] == [0, 2]
    assert body["Containers"] == [] and body["Volumes"] == [] and body["BuildCache"] == []
    assert "VirtualSize" not in body["Images"][0]
    assert disk_usage_json(du, (1, 43))["Images"][0]["VirtualSize"] == 10


def test_kinds_not_asked_for_are_null() -> None:
    svc = DiskUsageService(FakeImages(), NoContainers())
    body = disk_usage_json(asyncio.run(svc.disk_usage(parse_kinds(["volume"]))), (1, 45))
    assert body == {"LayersSize": 0, "Images": None, "Containers": None, "Volumes": [],
                    "BuildCache": None}  # fmt: skip


def test_unknown_kind() -> None:
    with pytest.raises(InvalidParameter, match="unknown object type: layers"):
        parse_kinds(["image", "layers"])


def test_container_counts() -> None:
    out = with_container_counts([{"Id": "x"}, {"Id": "y"}], {"y": [("c", False)]})
    assert out == [{"Id": "x", "Containers": 0}, {"Id": "y", "Containers": 1}]


def test_upper_size_counts_hard_links_once(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 100)
    os.link(tmp_path / "a", tmp_path / "b")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "c").write_bytes(b"y" * 20)
    (tmp_path / "l").symlink_to("/nonexistent-target-name")
    assert upper_size(tmp_path) == 120 + len("/nonexistent-target-name")
    assert upper_size(tmp_path / "gone") == 0
