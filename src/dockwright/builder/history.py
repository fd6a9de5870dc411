"""The image config of a build step's result, derived from its parent's. Pure."""

from __future__ import annotations

import hashlib
from typing import Any

from dockwright.errors import InvalidParameter

EPOCH_ARG = "SOURCE_DATE_EPOCH"


def child_config(parent: dict[str, Any], config: dict[str, Any], created_by: str,
                 diff_id: str | None, created: str) -> dict[str, Any]:  # fmt: skip
    """`parent`'s config with `config` as its `config` section and one more history entry.

    `diff_id` None marks a step that changed only metadata (Docker's `empty_layer`).
    """
    entry: dict[str, Any] = {"created": created, "created_by": created_by}
    diff_ids = list((parent.get("rootfs") or {}).get("diff_ids") or [])
    if diff_id is None:
        entry["empty_layer"] = True
    else:
        diff_ids.append(diff_id)
    out: dict[str, Any] = {
        "architecture": parent.get("architecture") or "amd64",
        "os": parent.get("os") or "linux",
        "config": {k: v for k, v in config.items() if v not in (None, "", [], {})},
        "created": created,
        "history": [*(parent.get("history") or []), entry],
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    for key in ("variant", "docker_version", "author"):
        if parent.get(key):
            out[key] = parent[key]
    return out


def source_date_epoch(build_args: dict[str, str]) -> int | None:
    """`--build-arg SOURCE_DATE_EPOCH=<seconds>` as BuildKit reads it; None when not given.

    With it, image and history `created` are that time and layer mtimes are clamped to it, so
    the same Dockerfile and context build the same image id.
    """
    text = build_args.get(EPOCH_ARG, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidParameter(f"invalid SOURCE_DATE_EPOCH {text!r}: want seconds since the epoch")
    return int(text)


def epoch_key(key: str, epoch: int | None) -> str:
    """A step's cache key under SOURCE_DATE_EPOCH: its images carry that date, so they must not
    stand in for (or be served to) builds with another epoch or none; unchanged without one."""
    if epoch is None:
        return key
    return hashlib.sha256(f"{key}:{EPOCH_ARG}={epoch}".encode()).hexdigest()
