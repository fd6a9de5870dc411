"""Docker's (go-units) human forms: sizes, durations, "2 minutes ago"; parsing and printing."""

from __future__ import annotations

_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
_RAM_SUFFIX = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def go_g(value: float, precision: int) -> str:
    """Go's `%.*g` (same as C's, which Python's `%g` follows)."""
    return f"{value:.{precision}g}"


def _scaled(size: float, base: float, units: tuple[str, ...]) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return size, units[i]


def human_size(size: float, precision: int = 4) -> str:
    """`units.HumanSizeWithPrecision`: decimal units, e.g. 4.26MB, 0B, 1.2kB."""
    value, unit = _scaled(float(size), 1000.0, _DECIMAL)
    return go_g(value, precision) + unit


def bytes_size(size: float) -> str:
    """`units.BytesSize`: binary units with 4 significant digits, e.g. 1.5MiB (stats)."""
    value, unit = _scaled(float(size), 1024.0, _BINARY)
    return go_g(value, 4) + unit


def ram_in_bytes(text: str) -> int:
    """`units.RAMInBytes`: `512m`, `1g`, `1.5GB`, `100` (bytes); binary multiples."""
    s = text.strip()
    i = 0
    while i < len(s) and (s[i].isdigit() or s[i] == "."):
        i += 1
    number, suffix = s[:i], s[i:].strip()
    if not number or number.count(".") > 1 or number.endswith("."):
        raise ValueError(f"invalid size: '{text}'")
    low = suffix.lower()
    if low in ("", "b"):
        return int(float(number))
    if low[0] not in _RAM_SUFFIX or low[1:] not in ("", "b", "i", "ib"):
        raise ValueError(f"invalid suffix: '{suffix}'")
    return int(float(number) * _RAM_SUFFIX[low[0]])


def parse_duration(text: str) -> int:
    """Go's `time.ParseDuration` → nanoseconds: `30s`, `1m30s`, `1.5h`, `500ms`, `0`."""
    s = text.strip()
    if s in ("0", "+0", "-0"):
        return 0
    sign, s = (-1, s[1:]) if s.startswith("-") else (1, s.lstrip("+"))
    if not s:
        raise ValueError(f'time: invalid duration "{text}"')
    total = 0.0
    while s:
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] == "."):
            i += 1
        j = i
        while j < len(s) and not (s[j].isdigit() or s[j] == "."):
            j += 1
        number, unit, s = s[:i], s[i:j], s[j:]
        if not number or number == ".":
            raise ValueError(f'time: invalid duration "{text}"')
        if unit not in _DURATION_UNITS:
            what = "missing unit" if not unit else f'unknown unit "{unit}"'
            raise ValueError(f'time: {what} in duration "{text}"')
        total += float(number) * _DURATION_UNITS[unit]
    return sign * int(total)


def format_duration(ns: int) -> str:
    """Go's `Duration.String()` for whole units: `0s`, `30s`, `1m30s`, `1h0m0s`, `500ms`."""
    if ns == 0:
        return "0s"
    if abs(ns) < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if abs(ns) >= size:
                return _trim(ns / size) + unit
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _trim(rest / 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def parse_nano_cpus(text: str) -> int:
    """`--cpus 1.5` → NanoCpus (1.5e9), as docker's NanoCPUs flag type."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"failed to parse {text} as a rational number") from None
    nano = value * 1e9
    if nano != int(nano):
        raise ValueError("value is too precise")
    return int(nano)
