"""Pure `ps`/`prune` filter matching with Docker's filter names and semantics."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, Protocol

from dockwright.errors import InvalidParameter
from dockwright.types.container import Container

LIST_FILTERS = (
    "id", "name", "label", "label!", "status", "ancestor", "exited", "before", "since", "health",
    "network", "volume", "publish", "expose", "is-task",
)  # fmt: skip
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


class ImageNames(Protocol):
    def resolve(self, ref: str) -> tuple[str, dict[str, Any]]: ...


def check(filters: dict[str, list[str]], allowed: tuple[str, ...] = LIST_FILTERS) -> None:
    for key, values in filters.items():
        if key not in allowed:
            raise InvalidParameter(f"invalid filter '{key}'")
        if key == "status":
            for v in values:
                if v not in STATUSES:
                    raise InvalidParameter(f"invalid filter 'status={v}'")
        if key == "exited":
            for v in values:
                if not v.lstrip("-").isdigit():
                    raise InvalidParameter(f"invalid filter 'exited={v}'")


def matches(
    c: Container,
    filters: dict[str, list[str]],
    images: ImageNames,
    created_of: Callable[[str], float],
) -> bool:
    """True when `c` passes every filter key (values of one key are OR-ed, keys AND-ed).

    `created_of(ref)` gives the creation time of the container a before/since filter names.
    """
    checks = {
        "id": lambda v: c.id.startswith(v),
        "name": lambda v: (
            re.search(v, c.name) is not None or re.search(v, "/" + c.name) is not None
        ),
        "label": lambda v: label_matches(c.config.labels, v),
        "status": lambda v: c.state.status == v,
        "exited": lambda v: c.state.status == "exited" and c.state.exit_code == int(v),
        "ancestor": lambda v: _ancestor(c, v, images),
        "health": lambda v: (c.state.health or "none") == v,
        "before": lambda v: c.created < created_of(v),
        "since": lambda v: c.created > created_of(v),
        "is-task": lambda v: v == "false",
        "network": lambda v: v in ("none", "host", "default", "bridge") and _net(c) == v,
    }
    for key, values in filters.items():
        if key == "label!":
            if any(label_matches(c.config.labels, v) for v in values):
                return False
            continue
        test = checks.get(key)
        if test is None:
            continue  # accepted but meaningless here (publish/expose/volume): no match restriction
        if not any(test(v) for v in values):
            return False
    return True


def matches_prune(c: Container, filters: dict[str, list[str]]) -> bool:
    for v in filters.get("label", []):
        if not label_matches(c.config.labels, v):
            return False
    for v in filters.get("label!", []):
        if label_matches(c.config.labels, v):
            return False
    return all(c.created < parse_until(v) for v in filters.get("until", []))


def label_matches(labels: dict[str, str], expr: str) -> bool:
    key, sep, value = expr.partition("=")
    if key not in labels:
        return False
    return not sep or labels[key] == value


def parse_until(value: str) -> float:
    """A unix timestamp, RFC 3339 time, or a Go duration like `10m` before now."""
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    match = re.fullmatch(r"(\d+)(s|m|h)", value)
    if match:
        unit = {"s": 1, "m": 60, "h": 3600}[match.group(2)]
        return time.time() - int(match.group(1)) * unit
    from datetime import datetime

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidParameter(f"invalid filter 'until={value}'") from None


def _net(c: Container) -> str:
    return c.host.network_mode or "default"


def _ancestor(c: Container, ref: str, images: ImageNames) -> bool:
    try:
        image_id, _ = images.resolve(ref)
    except Exception:
        return False
    return c.image_id == image_id
