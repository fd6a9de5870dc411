"""Pure: Docker's network list/prune filters over network records."""

from __future__ import annotations

from collections.abc import Callable

from dockwright.errors import InvalidParameter
from dockwright.network.model import Network

BUILTIN = ("bridge", "host", "none")
_KEYS = ("dangling", "driver", "id", "label", "label!", "name", "scope", "type")


def _label(n: Network, want: str) -> bool:
    key, eq, value = want.partition("=")
    return key in n.labels and (not eq or n.labels[key] == value)


def _builtin(n: Network) -> bool:
    return n.name in BUILTIN


def matches(n: Network, filters: dict[str, list[str]], in_use: Callable[[Network], bool]) -> bool:
    """Whether `n` passes every filter (values of one key are alternatives)."""
    tests: dict[str, Callable[[str], bool]] = {
        "driver": lambda v: v == n.driver,
        "id": lambda v: n.id.startswith(v),
        "name": lambda v: v in n.name,
        "label": lambda v: _label(n, v),
        "scope": lambda v: v == "local",
        "type": lambda v: (v == "builtin") == _builtin(n) and v in ("builtin", "custom"),
        "dangling": lambda v: (v.lower() in ("1", "true")) != in_use(n) and not _builtin(n),
    }
    for key, values in filters.items():
        if key not in _KEYS:
            raise InvalidParameter(f"invalid filter '{key}'")
        if key == "label!":  # Docker's negation: none of these labels
            if any(_label(n, v) for v in values):
                return False
        elif values and not any(tests[key](v) for v in values):
            return False
    return True
