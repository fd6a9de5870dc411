"""`system df` rows: the summary lines and the `-v` sections, computed as docker's
formatter/disk_usage.go computes them from the `GET /system/df` JSON. Pure; `now` is passed in.
"""

from __future__ import annotations

import re

from dockwright.cli.units import human_size
from dockwright.cli.views import ContainerView, ImageView, since, truncate_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DF_HEADER = {
    "Type": "TYPE",
    "TotalCount": "TOTAL",
    "Active": "ACTIVE",
    "Size": "SIZE",
    "Reclaimable": "RECLAIMABLE",
}
DF_TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
IMAGE_TABLE = (
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}"
    "\t{{.UniqueSize}}\t{{.Containers}}"
)
CONTAINER_TABLE = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}"
    "\t{{.Status}}\t{{.Names}}"
)
VOLUME_TABLE = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
VOLUME_HEADER = {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}
CACHE_TABLE = (
    "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}"
    "\t{{.UsageCount}}\t{{.Shared}}"
)
CACHE_HEADER = {
    "ID": "CACHE ID",
    "CacheType": "CACHE TYPE",
    "Size": "SIZE",
    "CreatedSince": "CREATED",
    "LastUsedSince": "LAST USED",
    "UsageCount": "USAGE",
    "Shared": "SHARED",
}
_ACTIVE_STATES = ("running", "paused", "restarting")


class UsageRow(dict[str, str]):
    """One summary line; a dict so `{{json .}}` prints its fields and templates index it."""


def _reclaimable(reclaimable: int, total: int) -> str:
    text = human_size(reclaimable)
    return f"{text} ({reclaimable * 100 // total}%)" if total > 0 else text


def _row(kind: str, total: int, active: int, size: int, reclaimable: str) -> UsageRow:
    # keys sorted: docker marshals a map for `{{json .}}`
    return UsageRow(
        Active=str(active), Reclaimable=reclaimable, Size=human_size(size),
        TotalCount=str(total), Type=kind,
    )  # fmt: skip


def images_row(du: dict[str, Any]) -> UsageRow:
    images = du.get("Images") or []
    total = int(du.get("LayersSize") or 0)
    used = sum(
        i["Size"] - i["SharedSize"]
        for i in images
        if i.get("Containers") and i.get("Size", -1) != -1 and i.get("SharedSize", -1) != -1
    )
    active = sum(1 for i in images if i.get("Containers", 0) > 0)
    return _row("Images", len(images), active, total, _reclaimable(total - used, total))


def is_active(c: dict[str, Any]) -> bool:
    state = str(c.get("State") or "")
    return any(s in state for s in _ACTIVE_STATES)


def containers_row(du: dict[str, Any]) -> UsageRow:
    containers = du.get("Containers") or []
    total = sum(int(c.get("SizeRw") or 0) for c in containers)
    free = sum(int(c.get("SizeRw") or 0) for c in containers if not is_active(c))
    active = sum(1 for c in containers if is_active(c))
    return _row("Containers", len(containers), active, total, _reclaimable(free, total))


def volumes_row(du: dict[str, Any]) -> UsageRow:
    volumes = du.get("Volumes") or []
    usage = [v.get("UsageData") or {"Size": -1, "RefCount": -1} for v in volumes]
    total = sum(u["Size"] for u in usage if u["Size"] != -1)
    free = sum(u["Size"] for u in usage if u["Size"] != -1 and u["RefCount"] == 0)
    active = sum(1 for u in usage if u["RefCount"] > 0)
    return _row("Local Volumes", len(volumes), active, total, _reclaimable(free, total))


def builder_size(du: dict[str, Any]) -> int:
    """The unshared cache records' sizes: the docker CLI computes it so and ignores the
    daemon's (deprecated) BuilderSize."""
    return sum(int(b.get("Size") or 0) for b in du.get("BuildCache") or [] if not b.get("Shared"))


def cache_row(du: dict[str, Any]) -> UsageRow:
    cache = du.get("BuildCache") or []
    total = builder_size(du)
    in_use = sum(int(b.get("Size") or 0) for b in cache if b.get("InUse") and not b.get("Shared"))
    active = sum(1 for b in cache if b.get("InUse"))
    return _row("Build Cache", len(cache), active, total, human_size(total - in_use))


def summary_rows(du: dict[str, Any]) -> list[UsageRow]:
    """The four lines of `docker system df`, in docker's order."""
    return [images_row(du), containers_row(du), volumes_row(du), cache_row(du)]


class DiskImageView(ImageView):
    """docker prints shared, unique and virtual sizes with HumanSize (4 digits), Size with 3."""

    @property
    def VirtualSize(self) -> str:  # noqa: N802 - template field names are docker's
        return human_size(float(self.img.get("VirtualSize") or self.img.get("Size") or 0))

    @property
    def SharedSize(self) -> str:  # noqa: N802
        shared = self.img.get("SharedSize", -1)
        return "N/A" if shared is None or shared < 0 else human_size(shared)

    @property
    def UniqueSize(self) -> str:  # noqa: N802
        shared, size = self.img.get("SharedSize", -1), self.img.get("Size", -1)
        if shared is None or shared < 0 or size is None or size < 0:
            return "N/A"
        return human_size(size - shared)


def image_views(du: dict[str, Any], now: float, trunc: bool = True) -> list[DiskImageView]:
    """`-v` image rows: the first tag only, `<none>` for dangling images."""
    rows = []
    for img in du.get("Images") or []:
        tags = [t for t in img.get("RepoTags") or [] if t != "<none>:<none>"]
        repo, tag = "<none>", "<none>"
        if tags and "@" not in tags[0]:
            repo, _, tag = tags[0].rpartition(":")
        rows.append(DiskImageView(img, repo, tag, "" if not trunc else "<none>", trunc, now))
    return rows


def container_views(du: dict[str, Any], now: float, trunc: bool = True) -> list[ContainerView]:
    """`-v` container rows; the virtual size is not shown (docker zeroes SizeRootFs)."""
    items = du.get("Containers") or []
    return [ContainerView({**c, "SizeRootFs": 0}, trunc, now) for c in items]


def verbose_json(du: dict[str, Any], now: float) -> dict[str, Any]:
    """What `system df -v --format` templates see: the sections' rows, ids not truncated."""
    return {
        "Images": [v.to_json() for v in image_views(du, now, trunc=False)],
        "Containers": [
            dict(sorted({**v.to_json(), "Platform": None}.items()))
            for v in container_views(du, now, trunc=False)
        ],
        "Volumes": [vars(VolumeView(x)) for x in du.get("Volumes") or []],
        "BuildCache": [v.to_json() for v in cache_views(du, now, trunc=False)],
    }


class VolumeView:
    def __init__(self, v: dict[str, Any]) -> None:
        self.Name = str(v.get("Name") or "")
        usage = v.get("UsageData") or {}
        refs, size = int(usage.get("RefCount", -1)), int(usage.get("Size", -1))
        self.Links = "N/A" if refs == -1 else str(refs)
        self.Size = "N/A" if size == -1 else human_size(size, 3)


class CacheView:
    """One build cache row as docker's buildCacheContext shows it: an in-use record's ID ends
    in `*`; a record never used has empty LAST USED fields."""

    def __init__(self, b: dict[str, Any], now: float, trunc: bool = True) -> None:
        ident, parents = str(b.get("ID") or ""), b.get("Parents") or []
        parent = ", ".join(parents) if parents else str(b.get("Parent") or "")
        self.ID = (truncate_id(ident) if trunc else ident) + ("*" if b.get("InUse") else "")
        self.Parent = truncate_id(parent) if trunc else parent
        self.CacheType = str(b.get("Type") or "")
        self.Description = str(b.get("Description") or "")
        self.Size = human_size(int(b.get("Size") or 0), 3)
        self.CreatedAt = go_time_string(b.get("CreatedAt"))
        self.CreatedSince = since(_unix(b.get("CreatedAt")), now)
        used = b.get("LastUsedAt")
        self.LastUsedAt = go_time_string(used) if used else ""
        self.LastUsedSince = since(_unix(used), now) if used else ""
        self.UsageCount = str(b.get("UsageCount") or 0)
        self.InUse = str(bool(b.get("InUse"))).lower()
        self.Shared = str(bool(b.get("Shared"))).lower()

    def to_json(self) -> dict[str, str]:
        """`{{json .}}`: every field, keys sorted (docker marshals a map)."""
        return dict(sorted(vars(self).items()))


def cache_views(du: dict[str, Any], now: float, trunc: bool = True) -> list[CacheView]:
    """`-v` build cache rows in the docker CLI's order (buildCacheSort): least recently used
    first, never-used records before all, ties by ID; the daemon's order does not matter."""
    records = sorted(du.get("BuildCache") or [], key=_cache_order)
    return [CacheView(b, now, trunc) for b in records]


def _cache_order(b: dict[str, Any]) -> tuple[int, int, str]:
    used = _rfc3339_ns(b.get("LastUsedAt"))
    return (0, 0, str(b.get("ID") or "")) if used is None else (1, used, str(b.get("ID") or ""))


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")


def _rfc3339_ns(value: Any) -> int | None:
    """An RFC 3339 time in ns, nanoseconds kept (records made in one build differ by less
    than a microsecond); None when absent (Go's nil LastUsedAt)."""
    from datetime import datetime

    m = _RFC3339.fullmatch(str(value or ""))
    if m is None:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    seconds = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    return seconds * 1_000_000_000 + int((m.group(2) or "0")[:9].ljust(9, "0"))


def go_time_string(value: Any) -> str:
    """Go's time.Time.String() of a decoded RFC 3339 time: `2024-01-02 15:04:05.5 +0000 UTC`
    (fraction without trailing zeros; a Z time is UTC, an offset has no zone name)."""
    m = _RFC3339.fullmatch(str(value or ""))
    if m is None:
        return str(value or "")
    day, _, clock = m.group(1).partition("T")
    frac = (m.group(2) or "")[:9].rstrip("0")
    zone = m.group(3)
    offset = "+0000 UTC" if zone == "Z" else f"{zone.replace(':', '')} {zone.replace(':', '')}"
    return f"{day} {clock}{'.' + frac if frac else ''} {offset}"


def _unix(value: Any) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
