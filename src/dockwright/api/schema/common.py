"""Helpers for Docker's JSON: times, durations, typed field access with 400s on bad types."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from dockwright.errors import InvalidParameter

ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339nano(ts: float) -> str:
    """Go's time.RFC3339Nano in UTC (trailing zeros of the fraction trimmed)."""
    if not ts:
        return ZERO_TIME
    whole = int(ts)
    nanos = int(round((ts - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    base = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    frac = f".{nanos:09d}".rstrip("0") if nanos else ""
    return f"{base}{frac}Z"


def parse_time(value: str | None) -> float:
    """`since`/`until` query values: unix seconds (with fraction), RFC 3339, or Go durations."""
    if not value:
        return 0.0
    try:
        return float(value)
    except ValueError:
        pass
    units = {"s": 1, "m": 60, "h": 3600}
    if value[-1] in units and value[:-1].replace(".", "", 1).isdigit():
        return time.time() - float(value[:-1]) * units[value[-1]]
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidParameter(f"invalid time value: {value}") from None


def field(
    obj: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None
) -> Any:
    """obj[name] checked against `kind`; None/missing gives `default`."""
    value = obj.get(name)
    if value is None:
        return default
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidParameter(f"json: cannot unmarshal {type(value).__name__} into field {name}")
    return value


def str_list(obj: dict[str, Any], name: str) -> tuple[str, ...] | None:
    """A list of strings; Docker also accepts a plain string for Cmd/Entrypoint-like fields."""
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidParameter(f"json: cannot unmarshal {name}: expected a list of strings")
    return tuple(value)


def str_map(obj: dict[str, Any], name: str) -> dict[str, str]:
    value = obj.get(name) or {}
    if not isinstance(value, dict):
        raise InvalidParameter(f"json: cannot unmarshal {name}: expected an object")
    return {str(k): str(v) for k, v in value.items()}
