"""Which build cache records `builder prune` removes, and in what order. Pure.

dockerd hands `POST /build/prune` to BuildKit (builder-next/builder.go, then the cache
manager's prune in cache/manager.go); this planner makes the same choice over our records
(usage.py: step entries and cache mounts):
- a record in use is never removed;
- the filters narrow the candidates: `id` (a regular expression searched in the id, BuildKit's
  `id~=`), `parent` (one of the record's parents), `type` and `description` (exact), `inuse`,
  `shared` and `private` (booleans; `private` is not shared), `until` or its old name
  `unused-for` (a Go duration before now, a timestamp or an RFC 3339 time: records last used
  after it stay); `label` and `label!` are accepted and ignored, as dockerd does;
- `all`: BuildKit's default keeps its internal, frontend and shared records, and so do we
  (we have no internal or frontend records): a plain prune leaves the entries a tagged image is
  built on, so rebuilding it stays cached; with `all` they are forgotten too (their images stay:
  a tagged image needs them, usage.py);
- a child holds its parent (BuildKit: a record with references is not a candidate): a step
  whose image would be deleted goes only once no remaining image is built on that image, so the
  plan runs in rounds, leaves first;
- `keep-storage`: BuildKit's gc mode. The total is the unshared records' sizes; while it is
  over keep-storage, the candidate BuildKit's sortDeleteRecords puts first goes (ranked by last
  use and by use count, least recent and least used first), one at a time. Shared records free
  nothing, so this mode leaves them. BuildKit stops only below the figure (`<`); we stop at it
  (the cache may keep exactly keep-storage bytes).

Bad filters fail as dockerd words them (`failed to prune build cache: invalid filter 'foo'`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from dockwright.errors import InvalidParameter

if TYPE_CHECKING:
    from dockwright.builder.ctxdiff import KeptInfo
    from dockwright.engine.builds.cachemounts import CacheMountInfo
    from dockwright.engine.builds.usage import StepUse

PREFIX = "failed to prune build cache: "
FIELDS = ("id", "parent", "type", "description", "inuse", "shared", "private")
ACCEPTED = frozenset(("until", "unused-for", "label", "label!", *FIELDS))
_BOOLS = {"": True, "true": True, "1": True, "false": False, "0": False}
_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9,
       "m": 60 * 10**9, "h": 3600 * 10**9}  # fmt: skip
_DURATION = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?"
    r"([zZ]|[+-]\d{2}:\d{2})?"
)


@dataclass(frozen=True)
class Record:
    """One cache record as prune sees it (times in ns; `image` is "" for a cache mount)."""

    id: str
    type: str
    size: int
    shared: bool
    in_use: bool
    last_used_ns: int
    usage_count: int
    description: str = ""
    parents: tuple[str, ...] = ()
    image: str = ""


@dataclass(frozen=True)
class PruneRule:
    """The request, checked: `filters` maps a field to its one value."""

    all: bool = False
    keep_storage: int = 0
    until_ns: int | None = None  # records last used after this stay
    filters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PrunePlan:
    records: tuple[Record, ...]  # in removal order
    images: tuple[str, ...]  # step images to delete, children first


# --- the request ----------------------------------------------------------------------------


def parse_keep_storage(text: str | None) -> int:
    """The `keep-storage` query value (bytes); dockerd's message for junk. Below 0 is 0."""
    if not text:
        return 0
    try:
        return max(0, int(text))
    except ValueError:
        raise InvalidParameter(
            f"keep-storage is in bytes and expects an integer, got {text}: "
            f'strconv.Atoi: parsing "{text}": invalid syntax'
        ) from None


def parse_rule(filters: Mapping[str, list[str]], now_ns: int, all: bool = False,
               keep_storage: int = 0) -> PruneRule:  # fmt: skip
    """Check the filters as dockerd does (names, one value each, until's time)."""
    for name in filters:
        if name not in ACCEPTED:
            raise InvalidParameter(f"{PREFIX}invalid filter '{name}'")
    if filters.get("until") and filters.get("unused-for"):
        raise InvalidParameter(f'{PREFIX}conflicting filters: "until" and "unused-for"')
    chosen = {k: v for k, v in filters.items() if k in FIELDS or k in ("until", "unused-for")}
    if any(len(set(v)) > 1 for v in chosen.values()):
        raise InvalidParameter(f"{PREFIX}filters expect only one value")
    one = {k: v[0] if v else "" for k, v in chosen.items()}
    for name in ("inuse", "shared", "private"):
        if name in one and one[name].lower() not in _BOOLS:
            raise InvalidParameter(f"{PREFIX}invalid filter '{name}=[{one[name]}]'")
    if "id" in one:
        _regex(one["id"])
    until_key = "unused-for" if "unused-for" in one else "until"
    until = one.pop(until_key, None)
    cutoff = None if until is None else until_ns(until, now_ns, until_key)
    return PruneRule(all, keep_storage, cutoff, {k: v for k, v in one.items() if k in FIELDS})


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidParameter(
            f"{PREFIX}failed to parse prune filters: invalid id pattern {pattern!r}: {exc}"
        ) from None


def go_duration(text: str) -> int | None:
    """Go's time.ParseDuration in ns ("10m", "1h30m", "-1.5h"); None when it is not one."""
    sign, body = (-1, text[1:]) if text[:1] == "-" else (1, text.removeprefix("+"))
    if body == "0":
        return 0
    pos, total = 0, 0.0
    for m in _DURATION.finditer(body):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _NS[m.group(2)]
        pos = m.end()
    return sign * int(total) if body and pos == len(body) else None


def until_ns(value: str, now_ns: int, key: str = "until") -> int:
    """Docker's GetTimestamp then ParseTimestamps: the moment `value` names, in ns."""
    duration = go_duration(value) if value != "0" else None
    if duration is not None:
        return (now_ns - duration) // 10**9 * 10**9  # GetTimestamp keeps whole seconds
    moment = _rfc3339(value)
    if moment is not None:
        return moment
    head, _, frac = value.partition(".")
    if "-" not in value and head.isdigit() and (frac.isdigit() or not frac):
        return int(head) * 10**9 + (int(frac.ljust(9, "0")[:9]) if frac else 0)
    reason = f'failed to parse value as time or duration: "{value}"'
    if "-" in value:
        reason = f'parsing time "{value}": cannot parse as RFC 3339'
    raise InvalidParameter(
        f"{PREFIX}\"{key}\" filter expects a duration (e.g., '24h') or a timestamp: {reason}"
    )


def _rfc3339(value: str) -> int | None:
    """An RFC 3339 time or a shorter date(-time); the daemon's local zone when none is given."""
    m = _TIME.fullmatch(value)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g or 0) for g in m.groups()[:6])
    zone = m.group(8)
    if zone is None:
        tz = datetime.now().astimezone().tzinfo
    elif zone in "zZ":
        tz = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None
    nanos = int((m.group(7) or "").ljust(9, "0"))
    return int(moment.timestamp()) * 10**9 + nanos


# --- the records ----------------------------------------------------------------------------


def records_of(uses: Iterable[StepUse], mounts: Iterable[CacheMountInfo],
               mount_in_use: Callable[[str], bool],
               contexts: Iterable[KeptInfo] = ()) -> list[Record]:  # fmt: skip
    """Our records in prune's terms: the step entries, the cache mounts, the kept contexts."""
    uses = list(uses)
    key_of = {u.entry.image_id: u.entry.key for u in uses}
    steps = [
        Record(u.entry.key, "regular", u.size, u.shared, u.in_use, u.entry.last_used_ns,
               u.entry.usage_count, u.entry.instruction or "build step",
               tuple(p for p in [key_of.get(u.entry.parent, "")] if p), u.entry.image_id)
        for u in uses
    ]  # fmt: skip
    return steps + [
        Record(m.id, "exec.cachemount", m.size, False, mount_in_use(m.id),
               int(m.last_used * 1e9), m.usage_count,
               f"cached mount {m.target or m.id} from exec with id \"{m.id}\"")
        for m in mounts
    ] + [
        Record(c.key, "source.local", c.size, False, c.users > 0, int(c.last_used * 1e9),
               c.uses, "local source for context")
        for c in contexts
    ]  # fmt: skip


def matches(r: Record, rule: PruneRule) -> bool:
    """The filters and `until` (BuildKit's adaptUsageInfo fields); in-use never matches,
    shared only with `all`."""
    if r.in_use or (r.shared and not rule.all):
        return False
    if rule.until_ns is not None and r.last_used_ns > rule.until_ns:
        return False
    f = rule.filters
    checks = {
        "id": lambda v: _regex(v).search(r.id) is not None,
        "parent": lambda v: v in r.parents,
        "type": lambda v: v == r.type,
        "description": lambda v: v == r.description,
        "inuse": lambda v: _BOOLS[v.lower()] == r.in_use,
        "shared": lambda v: _BOOLS[v.lower()] == r.shared,
        "private": lambda v: _BOOLS[v.lower()] != r.shared,
    }
    return all(checks[name](value) for name, value in f.items())


# --- the plan -------------------------------------------------------------------------------


class _State:
    """The records and images left while the plan is made."""

    def __init__(self, records: list[Record], image_parents: Mapping[str, str]) -> None:
        self.left = list(records)
        self.images = set(image_parents) | {r.image for r in records if r.image}
        self.parents = dict(image_parents)
        self.removed: list[Record] = []
        self.deleted: list[str] = []

    def deletes_image(self, r: Record) -> bool:
        """Removing `r` deletes its image: unshared, and no other record left names it."""
        return (
            bool(r.image) and not r.shared and all(o is r or o.image != r.image for o in self.left)
        )

    def removable(self, r: Record) -> bool:
        """A step that deletes its image waits until no image left is built on it."""
        if not self.deletes_image(r):
            return True
        return not any(self.parents.get(i) == r.image for i in self.images if i != r.image)

    def freed(self, r: Record) -> int:
        """What removing `r` frees: its image's bytes (every record of it) or the mount's."""
        if not r.image:
            return r.size
        if not self.deletes_image(r):
            return 0
        return sum(o.size for o in self.left if o.image == r.image)

    def remove(self, r: Record) -> None:
        if self.deletes_image(r):
            self.images.discard(r.image)
            self.deleted.append(r.image)
        self.left.remove(r)
        self.removed.append(r)


def plan_prune(records: list[Record], image_parents: Mapping[str, str],
               rule: PruneRule) -> PrunePlan:  # fmt: skip
    """The records to remove, in order, and the step images that go with them.
    `image_parents` maps every image to its parent (the images no record names too)."""
    state = _State(records, image_parents)
    chosen = [r for r in records if matches(r, rule)]
    if rule.keep_storage > 0:
        _gc(state, [r for r in chosen if not r.shared], rule.keep_storage)
    else:
        while batch := [r for r in chosen if r in state.left and state.removable(r)]:
            for r in batch:
                if state.removable(r):  # a sibling's removal may not unblock, recheck
                    state.remove(r)
    return PrunePlan(tuple(state.removed), tuple(state.deleted))


def _gc(state: _State, chosen: list[Record], keep: int) -> None:
    """keep-storage: one record at a time, BuildKit's first, until the total fits."""
    total = sum(r.size for r in state.left if not r.shared)
    while total > keep:
        candidates = [r for r in chosen if r in state.left and state.removable(r)]
        if not candidates:
            return
        first = delete_order(candidates)[0]
        total -= state.freed(first)
        state.remove(first)


def delete_order(records: list[Record]) -> list[Record]:
    """BuildKit's sortDeleteRecords: ranked by last use and by use count (each rank scaled
    to 0..1), the lowest sum first; a record never used (time 0) ranks lowest."""
    by_time = sorted(records, key=lambda r: (r.last_used_ns, r.id))
    time_rank: dict[Record, int] = {}
    last, rank = 0, 0
    for r in by_time:
        if r.last_used_ns > last:
            last, rank = r.last_used_ns, rank + 1
        time_rank[r] = rank
    counts = sorted({r.usage_count for r in records})
    count_rank = {c: i + (0 if counts[0] == 0 else 1) for i, c in enumerate(counts)}
    top_time, top_count = max(rank, 1), max(max(count_rank.values()), 1)

    def score(r: Record) -> tuple[float, int, str]:
        mix = time_rank[r] / top_time + count_rank[r.usage_count] / top_count
        return (mix, r.last_used_ns, r.id)

    return sorted(records, key=score)
