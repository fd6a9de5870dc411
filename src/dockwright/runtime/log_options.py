"""HostConfig.LogConfig: Docker's log drivers we support, their options, and the rotation they ask for.

Drivers: "json-file" (Docker's default; here conmon's k8s-file lines, rotated by
runtime.log_rotation when max-size is set), "local" (the same files, rotated by default as
Docker's local driver is: 20 MiB x 5) and "none" (no log file; `logs` cannot read it).
Any other driver is refused at create with Docker's error. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from dockwright.errors import InvalidParameter, NotImplementedYet

__all__ = [
    "READ_NOT_SUPPORTED",
    "RotationPolicy",
    "check_readable",
    "merge_log_config",
    "parse_human_size",
    "rotation_policy",
]

READ_NOT_SUPPORTED = "configured logging driver does not support reading"
_COMMON = frozenset({"mode", "max-buffer-size"})
_ALLOWED = {
    "json-file": frozenset(
        {"max-file", "max-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag"}
    ),
    "local": frozenset({"max-file", "max-size", "compress"}),
}
_LOCAL_DEFAULTS = {"max-size": "20m", "max-file": "5"}
_DECIMAL = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_BINARY = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
_TRUE = ("1", "t", "T", "true", "TRUE", "True")  # Go's strconv.ParseBool
_FALSE = ("0", "f", "F", "false", "FALSE", "False")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RotationPolicy:
    """Keep at most `max_file` files (the live one included) of at most `max_size` bytes."""

    max_size: int
    max_file: int = 1


def merge_log_config(
    requested: Mapping[str, object], default_driver: str, default_opts: Mapping[str, str]
) -> dict[str, object]:
    """Docker's mergeAndVerifyLogConfig: an empty Type is the daemon's driver; the daemon's
    log-opts fill in options the request left out when the drivers match. Raises
    InvalidParameter with Docker's text for unknown drivers and bad options."""
    driver = str(requested.get("Type") or default_driver)
    raw = requested.get("Config") or {}
    if not isinstance(raw, Mapping):
        raise InvalidParameter("invalid LogConfig: Config must be an object of strings")
    config = {str(k): str(v) for k, v in raw.items()}
    if driver == default_driver:
        config = {**default_opts, **config}
    validate_log_config(driver, config)
    return {"Type": driver, "Config": config}


def validate_log_config(driver: str, config: Mapping[str, str]) -> None:
    if driver == "none":
        return
    mode = config.get("mode", "")
    if mode not in ("", "blocking", "non-blocking"):
        raise InvalidParameter(f"logger: logging mode not supported: {mode}")
    if "max-buffer-size" in config and mode != "non-blocking":
        raise InvalidParameter(
            "logger: max-buffer-size option is only supported with 'mode=non-blocking'"
        )
    allowed = _ALLOWED.get(driver)
    if allowed is None:
        raise InvalidParameter(f"logger: no log driver named '{driver}' is registered")
    for key in config:
        if key not in allowed and key not in _COMMON:
            what = "json-file log driver" if driver == "json-file" else f"log driver {driver}"
            raise InvalidParameter(f"unknown log opt '{key}' for {what}")
    _policy(driver, config)


def rotation_policy(log_config: Mapping[str, object]) -> RotationPolicy | None:
    """How a container's log files rotate; None when they grow without bound (or no file)."""
    driver = str(log_config.get("Type") or "json-file")
    raw = log_config.get("Config") or {}
    config = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    if driver not in _ALLOWED:
        return None
    return _policy(driver, config)


def check_readable(log_config: Mapping[str, object]) -> None:
    """`logs` of a container whose driver keeps nothing: Docker's NotImplemented error."""
    if log_config.get("Type") == "none":
        raise NotImplementedYet(READ_NOT_SUPPORTED)


def _policy(driver: str, config: Mapping[str, str]) -> RotationPolicy | None:
    if driver == "local":
        config = {**_LOCAL_DEFAULTS, **config}
    max_file = _max_file(config.get("max-file"))
    size_text = config.get("max-size", "-1")
    max_size = -1 if size_text == "-1" else parse_human_size(size_text, binary=driver == "local")
    if size_text != "-1" and max_size <= 0:
        raise InvalidParameter("max-size must be a positive number")
    _check_compress(config.get("compress"), max_file, max_size)
    return RotationPolicy(max_size, max_file) if max_size > 0 else None


def _check_compress(text: str | None, max_file: int, max_size: int) -> None:
    """Validated as Docker does; rotated files are kept uncompressed here."""
    if text is None:
        return
    if text not in _TRUE + _FALSE:
        raise InvalidParameter(f'strconv.ParseBool: parsing "{text}": invalid syntax')
    if text in _TRUE and (max_file < 2 or max_size <= 0):
        raise InvalidParameter(
            "compress cannot be true when max-file is less than 2 or max-size is not set"
        )


def _max_file(text: str | None) -> int:
    if text is None:
        return 1
    try:
        value = int(text)
    except ValueError:
        raise InvalidParameter(f'strconv.Atoi: parsing "{text}": invalid syntax') from None
    if value < 1:
        raise InvalidParameter("max-file cannot be less than 1")
    return value


def parse_human_size(text: str, *, binary: bool = False) -> int:
    """ "10m" -> 10_000_000 as Docker's units.FromHumanSize (decimal); binary=True is
    RAMInBytes (10m -> 10 MiB), which Docker's local driver uses."""
    m = _SIZE.match(text)
    if m is None:
        raise InvalidParameter(f"invalid size: '{text}'")
    units = _BINARY if binary or m.group(3).lower().startswith("i") else _DECIMAL
    return int(float(m.group(1)) * units[m.group(2).lower()])
