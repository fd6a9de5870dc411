"""The image config of a build step's result, derived from its parent's. Pure."""

from __future__ import annotations

from typing import Any


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
