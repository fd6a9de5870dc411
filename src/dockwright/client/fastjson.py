"""JSON decoding without importing the `json` package (which imports `re`, `enum`, ...).

Why: `dockwright ps` must start about as fast as the Go docker CLI, and importing `json`
costs more than the rest of the command. The C scanner in `_json` is what `json.loads` uses
underneath; this module drives it directly and falls back to `json` if `_json` is missing.
Encoding is rare on the hot path, so `dumps` simply defers to the `json` package.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `from typing import ...`: importing typing costs milliseconds
if TYPE_CHECKING:
    from typing import Any

_WS = " \t\n\r"


class DecodeError(ValueError):
    """Not valid JSON (subclass of ValueError, like json.JSONDecodeError)."""


class _Context:
    """The attributes `_json.make_scanner` reads from a decoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


def _make_scanner() -> Any:
    try:
        import _json
    except ImportError:  # pragma: no cover - CPython always has it
        return None
    return _json.make_scanner(_Context())  # type: ignore[arg-type]


_scan = _make_scanner()


def loads(data: str | bytes | bytearray) -> Any:
    """Decode one JSON document (surrounding whitespace allowed)."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    if _scan is None:  # pragma: no cover
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_WS))
    if start == len(text):
        raise DecodeError("empty JSON document")
    try:
        obj, end = _scan(text, start)
    except StopIteration as exc:
        raise DecodeError(f"invalid JSON at position {exc.value}") from None
    except SystemError:
        # _json reports syntax errors through json.decoder, which we did not import; let the
        # full decoder produce its usual error (JSONDecodeError is a ValueError).
        import json

        return json.loads(text)
    if text[end:].strip(_WS):
        raise DecodeError(f"extra data after JSON at position {end}")
    return obj


def dumps(obj: Any) -> str:
    import json

    return json.dumps(obj)
