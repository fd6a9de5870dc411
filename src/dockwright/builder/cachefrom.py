"""`--cache-from`: find a step's result inside another image's history. Pure.

An image built earlier carries, in its config, the history line and layer of every step that
made it. When the step's parent is a prefix of such an image (same history entries, same
layers) and the image's next history entry was made by the same command (`created_by`, which
holds the instruction after expansion and, for COPY/ADD, the digest of the copied content),
that entry and its layer are the step's result — the legacy builder's rule. The restored image
gets the step's expected config, the entry's `created` time and its layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Restored:
    """A step result taken from a cache source: its history entry and layer (None: no layer)."""

    entry: dict[str, Any]
    diff_id: str | None


def _history(full: dict[str, Any]) -> list[dict[str, Any]]:
    return list(full.get("history") or [])


def _diff_ids(full: dict[str, Any]) -> list[str]:
    return list((full.get("rootfs") or {}).get("diff_ids") or [])


def _same_entry(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("created", "created_by", "empty_layer", "comment")
    return all(bool(a.get(k)) == bool(b.get(k)) and a.get(k) == b.get(k) for k in keys)


def is_prefix(parent: dict[str, Any], source: dict[str, Any]) -> bool:
    """`parent`'s history and layers begin `source`'s (and `source` has at least one more step)."""
    ph, sh = _history(parent), _history(source)
    pd, sd = _diff_ids(parent), _diff_ids(source)
    if len(ph) >= len(sh) or len(pd) > len(sd) or sd[: len(pd)] != pd:
        return False
    if parent.get("os", "linux") != source.get("os", "linux"):
        return False
    return all(_same_entry(a, b) for a, b in zip(ph, sh, strict=False))


def next_step(parent: dict[str, Any], source: dict[str, Any], created_by: str) -> Restored | None:
    """The step after `parent` in `source` when `created_by` made it; else None."""
    if not is_prefix(parent, source):
        return None
    entry = _history(source)[len(_history(parent))]
    if entry.get("created_by") != created_by:
        return None
    if entry.get("empty_layer"):
        return Restored(dict(entry), None)
    layers = _diff_ids(source)
    index = len(_diff_ids(parent))
    return Restored(dict(entry), layers[index]) if index < len(layers) else None


def find_restorable(parent: dict[str, Any], sources: Sequence[dict[str, Any]],
                    created_by: str) -> Restored | None:  # fmt: skip
    """The first cache source that holds the step (sources in --cache-from order)."""
    for source in sources:
        found = next_step(parent, source, created_by)
        if found is not None:
            return found
    return None
