"""The build cache in `system df` and what `builder prune` removes (engine/builds/usage.py):
the two must agree, so RECLAIMABLE is what prune frees."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dockwright.builder.mounts import parse_mount, resolve
from dockwright.engine.builds.cachemounts import CacheMountInfo, CacheMounts
from dockwright.engine.builds.prunefilter import PruneRule, plan_prune, records_of
from dockwright.engine.builds.usage import (
    CacheEntry,
    StepUse,
    mount_records,
    step_records,
    step_uses,
)

pytestmark = pytest.mark.unit

S = 1_000_000_000


def entry(key: str, image: str, parent: str, last_used: int = 2 * S) -> CacheEntry:
    return CacheEntry(key, image, parent, f"RUN {key}", 1 * S, last_used, 1)


# base (tagged) <- i1 <- i2 (tagged app:1);  base <- j1 <- j2 (untagged build result)
IMAGES = [
    {"Id": "base", "ParentId": "", "RepoTags": ["busybox:latest"], "Size": 100},
    {"Id": "i1", "ParentId": "base", "RepoTags": [], "Size": 150},
    {"Id": "i2", "ParentId": "i1", "RepoTags": ["app:1"], "Size": 170},
    {"Id": "j1", "ParentId": "base", "RepoTags": [], "Size": 130},
    {"Id": "j2", "ParentId": "j1", "RepoTags": [], "Size": 135},
]
ENTRIES = [entry("k1", "i1", "base"), entry("k2", "i2", "i1"),
           entry("k3", "j1", "base"), entry("k4", "j2", "j1")]  # fmt: skip


def prune_images(uses: list[StepUse], images: list[dict] = IMAGES) -> list[str]:
    """The images a `builder prune` without arguments deletes (prunefilter.py plans it)."""
    parents = {i["Id"]: i["ParentId"] for i in images}
    return list(plan_prune(records_of(uses, [], lambda _: False), parents, PruneRule()).images)


def reclaimable_text(records: list[dict]) -> int:
    """The docker CLI's RECLAIMABLE: unshared sizes minus the unshared in-use ones."""
    size = sum(r["Size"] for r in records if not r["Shared"])
    return size - sum(r["Size"] for r in records if r["InUse"] and not r["Shared"])


def test_prune_deletes_exactly_the_reclaimable_images_children_first():
    uses = step_uses(ENTRIES, IMAGES)
    assert [(u.entry.key, u.size, u.shared) for u in uses] == [
        ("k1", 50, True), ("k2", 20, True), ("k3", 30, False), ("k4", 5, False)
    ]  # fmt: skip
    assert prune_images(uses) == ["j2", "j1"]
    freed = sum(u.size for u in uses if u.entry.image_id in prune_images(uses))
    assert reclaimable_text(step_records(uses)) == freed == 35


def test_images_in_use_or_made_by_a_running_build_stay():
    uses = step_uses(ENTRIES, IMAGES, in_use={"j1"})
    assert prune_images(uses) == ["j2"]
    assert reclaimable_text(step_records(uses)) == 5
    # a build running since t=3s made (or hit) k4: it keeps its image
    busy = step_uses([*ENTRIES[:3], entry("k4", "j2", "j1", last_used=4 * S)], IMAGES,
                     busy_since=3 * S)  # fmt: skip
    assert [u.in_use for u in busy] == [False] * 3 + [True]
    assert prune_images(busy) == []  # j1 stays too: j2, which the build holds, is built on it


def test_an_image_two_entries_share_counts_once():
    images = [i for i in IMAGES if i["Id"] != "j2"]  # nothing else is built on j1
    uses = step_uses([entry("k3", "j1", "base"), entry("k5", "j1", "base")], images)
    assert [u.size for u in uses] == [30, 0] and prune_images(uses, images) == ["j1"]


def test_cache_mounts_are_records_of_their_own_type():
    mounts = [CacheMountInfo("pip", 4096, 20.0, "/root/.cache/pip", 10.0, 3),
              CacheMountInfo("imported", 512, 30.0)]  # fmt: skip
    pip, imported = mount_records(mounts, lambda cache_id: cache_id == "pip")
    assert pip == {
        "ID": "pip", "Parents": None, "Type": "exec.cachemount",
        "Description": 'cached mount /root/.cache/pip from exec with id "pip"', "InUse": True,
        "Shared": False, "Size": 4096, "CreatedAt": "1970-01-01T00:00:10Z",
        "LastUsedAt": "1970-01-01T00:00:20Z", "UsageCount": 3,
    }  # fmt: skip
    assert imported["Description"] == 'cached mount imported from exec with id "imported"'
    assert imported["CreatedAt"] == imported["LastUsedAt"] == "1970-01-01T00:00:30Z"
    assert reclaimable_text([pip, imported]) == 512


def test_cache_mount_entries_know_their_target_and_uses(tmp_path: Path):
    store = CacheMounts(tmp_path)
    mount = resolve(parse_mount("type=cache,target=/var/cache/apt,id=apt"), "/")

    async def twice() -> bool:
        async with store.use(mount):
            busy = store.in_use("apt")
        async with store.use(mount):
            pass
        return busy

    assert asyncio.run(twice()) and not store.in_use("apt")
    (info,) = store.entries()
    assert (info.id, info.target, info.usage_count) == ("apt", "/var/cache/apt", 2)
    assert 0 < info.created <= info.last_used
