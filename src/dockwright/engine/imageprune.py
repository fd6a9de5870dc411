"""`docker image prune` as a pure planner: which names to hand to rmi, in which order.

Mirrors dockerd's ImagesPrune: by default only dangling images (no tag, no child); with
`dangling=false` every image; untagged images with children are never candidates (their child
keeps them); `until` and `label`/`label!` narrow the candidates. An image that still has
references is removed reference by reference (only when `dangling=false`, or when it has
digests but no tag), otherwise by id. Whether a container uses the image is left to rmi's
conflict checks, exactly as dockerd leaves it to ImageDelete.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockwright.engine.containers.filters import label_matches, parse_until
from dockwright.errors import InvalidParameter

PRUNE_FILTERS = ("dangling", "label", "label!", "until")
_BOOLS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class Candidate:
    """What the planner needs to know of one image."""

    id: str
    tags: tuple[str, ...]  # repo:tag references
    digests: tuple[str, ...]  # repo@digest references
    has_children: bool
    created: float  # unix seconds
    labels: dict[str, str]


def dangling_only(filters: dict[str, list[str]]) -> bool:
    """Docker's GetBoolOrDefault("dangling", true); InvalidParameter names a bad value."""
    for key in filters:
        if key not in PRUNE_FILTERS:
            raise InvalidParameter(f"invalid filter '{key}'")
    if len(filters.get("until", [])) > 1:
        raise InvalidParameter("more than one until filter specified")
    values = filters.get("dangling", [])
    for v in values:
        if v.lower() not in _BOOLS:
            raise InvalidParameter(f"invalid filter 'dangling={v}'")
    return not values or any(_BOOLS[v.lower()] for v in values)


def _selected(c: Candidate, filters: dict[str, list[str]], only_dangling: bool) -> bool:
    if only_dangling and c.has_children:
        return False
    if not (c.tags or c.digests) and c.has_children:
        return False
    if any(c.created > parse_until(v) for v in filters.get("until", [])):
        return False
    if not all(label_matches(c.labels, v) for v in filters.get("label", [])):
        return False
    excluded = filters.get("label!", [])  # like Docker's MatchKVList: all of them must match
    return not (excluded and all(label_matches(c.labels, v) for v in excluded))


def plan_prune(candidates: list[Candidate], filters: dict[str, list[str]]) -> list[list[str]]:
    """For each image to prune, the names to delete it by (one rmi call per name)."""
    only_dangling = dangling_only(filters)
    plan: list[list[str]] = []
    for c in candidates:
        if not _selected(c, filters, only_dangling):
            continue
        refs = [*c.tags, *c.digests]
        if not refs:
            plan.append([c.id])
        elif not only_dangling or not c.tags:
            plan.append(refs)
    return plan
