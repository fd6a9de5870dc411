"""Why a build step missed the cache, from the inputs recorded for earlier steps. Pure.

Every step that runs records a `StepRecord` next to its cache key: its parent image, the
instruction as written, the build arguments it can see, the content digests of the files it
copies and the image it copies from. On a miss, the records that share the step's parent are
the candidates it could have matched; comparing the best one with the current inputs names what
changed (an argument, a file, the instruction). Without a candidate the parent itself is new.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_NAMED = 5  # files or arguments named in one reason; the rest are counted


@dataclass(frozen=True)
class StepRecord:
    """What decided a step's cache key, in a form that can be compared and explained."""

    parent: str
    instruction: str  # as written in the Dockerfile (`COPY app.py /app/`)
    args: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)  # path -> "mode:digest"
    source: str = ""  # the image a COPY --from reads

    def to_json(self) -> dict[str, Any]:
        return {"args": dict(self.args), "files": dict(self.files), "source": self.source}

    @classmethod
    def from_json(cls, parent: str, instruction: str, doc: Mapping[str, Any]) -> StepRecord:
        return cls(parent, instruction, dict(doc.get("args") or {}),
                   dict(doc.get("files") or {}), str(doc.get("source") or ""))  # fmt: skip


def file_map(entries: Sequence[tuple[str, int, str]]) -> dict[str, str]:
    """`hash_sources` entries as path -> "mode:digest" (directories included)."""
    return {path: f"{mode:o}:{digest}" for path, mode, digest in entries}


def visible_args(keyword: str, text: str, args: Mapping[str, str]) -> dict[str, str]:
    """The arguments a step depends on: all of them for RUN (its environment), else the ones
    its text names (`$NAME`, `${NAME}`)."""
    if keyword == "run":
        return dict(args)
    named = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))
    return {k: v for k, v in args.items() if k in named}


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    more = len(items) - MAX_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def file_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Phrases naming changed, added and removed files (directories only when added/removed)."""
    changed = sorted(p for p in new if p in old and old[p] != new[p] and not _is_dir(new[p]))
    added = sorted(p for p in new if p not in old)
    removed = sorted(p for p in old if p not in new)
    out = []
    for verb, items in (("changed", changed), ("added", added), ("removed", removed)):
        if items:
            out.append(f"file{'s' if len(items) > 1 else ''} {verb}: {_names(items)}")
    return out


def _is_dir(value: str) -> bool:
    return value.endswith(":dir")


def arg_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Phrases naming build arguments whose value changed, appeared or went away."""
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append(f"build argument {name} added ({new[name]!r})")
        elif name not in new:
            out.append(f"build argument {name} removed (was {old[name]!r})")
        elif old[name] != new[name]:
            out.append(f"build argument {name} changed ({old[name]!r} -> {new[name]!r})")
    return out


def differences(old: StepRecord, new: StepRecord) -> list[str]:
    """Everything that differs between two records of the same instruction."""
    out = arg_changes(old.args, new.args) + file_changes(old.files, new.files)
    if old.source != new.source:
        out.append("the image it copies from changed")
    return out


def _keyword(text: str) -> str:
    return text.split(None, 1)[0].lower() if text.strip() else ""


def best_candidate(current: StepRecord, candidates: Sequence[StepRecord]) -> StepRecord | None:
    """The candidate most like `current`: same instruction first, then same keyword; the
    latest recorded wins a tie (candidates come oldest first)."""
    same = [c for c in candidates if c.instruction == current.instruction]
    if same:
        return same[-1]
    kind = [c for c in candidates if _keyword(c.instruction) == _keyword(current.instruction)]
    return kind[-1] if kind else None


def explain_miss(current: StepRecord, candidates: Sequence[StepRecord], *, no_cache: bool = False,
                 parent_missed: bool = False) -> str:  # fmt: skip
    """One line saying why `current` had no usable cache entry."""
    if no_cache:
        return "--no-cache was given"
    if parent_missed:
        return "the previous step was rebuilt"
    if not candidates:
        return f"no build cache for parent image {short(current.parent)}"
    best = best_candidate(current, candidates)
    if best is None:
        return "new instruction (no earlier build ran it on this parent image)"
    if best.instruction != current.instruction:
        return f"instruction changed (was: {best.instruction})"
    found = differences(best, current)
    return "; ".join(found) if found else "its inputs changed (the cached result is gone)"


def short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]
