"""What the build cache holds, as `system df` shows it and `builder prune` frees it. Pure.

Three kinds of record, in Docker's BuildCache shape:
- `regular`: one step's cache entry. The legacy builder keeps every step's result as an image,
  and so do we: intermediate images are untagged images with a parent, hidden by `docker
  images` without `-a` (the final image of an untagged build shows as dangling). A record's
  Size is what its image adds to its parent's (its layer; an image several entries share counts
  once, on the oldest). Those bytes are image layers, so `system df` counts them under Images
  (LayersSize) as well, as dockerd counts intermediate images. A record is Shared when a tagged
  image is built on its image (the bytes belong to that image and go only with it), InUse when a
  container runs from its image or a running build made or used the entry.
- `exec.cachemount`: a `RUN --mount=type=cache` directory; InUse while a step holds it.
- `source.local`: a context `dockwright build` synced (engine/builds/ctxsync.py), its spool
  file's size; InUse while a build or a pending offer uses it.

The choice: a record that is neither Shared nor InUse is reclaimable, and `builder prune`
without arguments removes exactly those: the step's image (with its layer: no tagged image
needs it), the cache mount's directory, the kept context's spool. So the docker CLI's
RECLAIMABLE (the unshared records' sizes minus the unshared InUse ones) is what prune reports
as SpaceReclaimed. Shared and InUse records stay, as BuildKit keeps them; `all` also forgets
the Shared step entries (their images stay: tagged images are built on them, so that frees
nothing). Filters and `keep-storage` narrow or order that choice (prunefilter.py). `image
prune` stays as dockerd's: it removes a dangling build result and its untagged parents, whose
entries then count as misses.

`system df -v` shows the records in the docker CLI's order (least recently used first), which
the CLI sorts itself; the API lists step entries oldest first, then the cache mounts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from dockwright.builder.ctxdiff import KeptInfo
from dockwright.engine.builds.cachemounts import CacheMountInfo
from dockwright.image.config import format_time

MOUNT_TYPE = "exec.cachemount"  # BuildKit's record type for cache mounts
SOURCE_TYPE = "source.local"  # BuildKit's record type for a client's local files


@dataclass(frozen=True)
class CacheEntry:
    """One cache record as `system df` reports it (times in ns)."""

    key: str
    image_id: str
    parent: str
    instruction: str
    created_ns: int
    last_used_ns: int
    usage_count: int


@dataclass(frozen=True)
class StepUse:
    """A step entry with what `system df` and `builder prune` decide on."""

    entry: CacheEntry
    size: int
    shared: bool
    in_use: bool

    @property
    def reclaimable(self) -> bool:
        return not (self.shared or self.in_use)


def kept_images(images: list[dict[str, Any]]) -> set[str]:
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


def step_uses(entries: list[CacheEntry], images: list[dict[str, Any]],
              in_use: AbstractSet[str] = frozenset(),
              busy_since: int | None = None) -> list[StepUse]:  # fmt: skip
    """Classify the entries (oldest first). `images` is every image (`all`), `in_use` the
    images containers use, `busy_since` when the oldest running build started."""
    sizes = {i["Id"]: int(i.get("Size") or 0) for i in images}
    kept = kept_images(images)
    counted: set[str] = set()
    out = []
    for e in entries:
        size = 0 if e.image_id in counted else sizes.get(e.image_id, 0) - sizes.get(e.parent, 0)
        counted.add(e.image_id)
        busy = busy_since is not None and e.last_used_ns >= busy_since
        out.append(StepUse(e, max(0, size), e.image_id in kept, e.image_id in in_use or busy))
    return out


def step_records(uses: list[StepUse]) -> list[dict[str, Any]]:
    """Docker's BuildCache objects for the step entries."""
    key_of = {u.entry.image_id: u.entry.key for u in uses}
    out = []
    for u in uses:
        e, parent = u.entry, key_of.get(u.entry.parent, "")
        out.append({
            "ID": e.key, **({"Parent": parent} if parent else {}),
            "Parents": [parent] if parent else None, "Type": "regular",
            "Description": e.instruction or "build step", "InUse": u.in_use, "Shared": u.shared,
            "Size": u.size, "CreatedAt": format_time(e.created_ns),
            "LastUsedAt": format_time(e.last_used_ns), "UsageCount": e.usage_count,
        })  # fmt: skip
    return out


def mount_records(mounts: list[CacheMountInfo], in_use: Callable[[str], bool]) -> list[dict[str, Any]]:  # fmt: skip
    """Docker's BuildCache objects for the cache mounts (BuildKit's description wording)."""
    return [
        {
            "ID": m.id, "Parents": None, "Type": MOUNT_TYPE,
            "Description": f"cached mount {m.target or m.id} from exec with id {json.dumps(m.id)}",
            "InUse": in_use(m.id), "Shared": False, "Size": m.size,
            "CreatedAt": format_time(int((m.created or m.last_used) * 1e9)),
            "LastUsedAt": format_time(int(m.last_used * 1e9)), "UsageCount": m.usage_count,
        }
        for m in mounts
    ]  # fmt: skip


def context_records(contexts: list[KeptInfo]) -> list[dict[str, Any]]:
    """Docker's BuildCache objects for the contexts kept for `dockwright build`'s sync
    (engine/builds/ctxsync.py), as BuildKit lists its local sources."""
    return [
        {
            "ID": c.key, "Parents": None, "Type": SOURCE_TYPE,
            "Description": "local source for context", "InUse": c.users > 0, "Shared": False,
            "Size": c.size, "CreatedAt": format_time(int(c.created * 1e9)),
            "LastUsedAt": format_time(int(c.last_used * 1e9)), "UsageCount": c.uses,
        }
        for c in contexts
    ]  # fmt: skip
