"""Time values on the command line (`--since`, `--until`) → the API's `seconds[.nanos]` form.

docker's GetTimestamp: a Go duration (`10m`) means that long before now; a number is already a
Unix time; otherwise RFC 3339 or a shorter date(-time), local time when no zone is given.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dockwright.cli.units import parse_duration
from dockwright.errors import InvalidParameter

_LAYOUTS = (
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H",
    "%Y-%m-%d",
)


def _is_number(value: str) -> bool:
    head, _, tail = value.partition(".")
    return head.lstrip("-").isdigit() and (not tail or tail.isdigit())


def _parse_datetime(value: str) -> datetime:
    text = value.replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None:
        for layout in _LAYOUTS:
            try:
                parsed = datetime.strptime(text, layout)
                break
            except ValueError:
                continue
    if parsed is None:
        raise InvalidParameter(f'failed to parse value as time or duration: "{value}"')
    return parsed if parsed.tzinfo else parsed.astimezone()


def get_timestamp(value: str, now: float) -> str:
    """The API form of a `--since`/`--until` value."""
    if not value:
        return ""
    if _is_number(value):
        return value
    try:
        ns = parse_duration(value)
    except ValueError:
        ns = None
    if ns is not None:
        t = int(now * 1e9) - ns
        return f"{t // 1_000_000_000}.{t % 1_000_000_000:09d}"
    moment = _parse_datetime(value).astimezone(UTC)
    seconds = int(moment.timestamp())
    return f"{seconds}.{moment.microsecond * 1000:09d}"
