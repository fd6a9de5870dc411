"""OCI image configs: building the one `docker import` makes, reading fields back. Pure.

The config JSON is stored as a blob; its digest is the image id, so it is encoded canonically
(sorted keys, compact) to make equal configs give equal ids.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dockwright.errors import InvalidParameter
from dockwright.image.instructions import apply_changes
from dockwright.types.system import ENGINE_VERSION

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time.Time, what Docker prints for "never"
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
         "s390x": "s390x", "riscv64": "riscv64"}  # fmt: skip
_RFC3339 = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$", re.IGNORECASE
)


def host_arch() -> str:
    """The GOARCH name of this machine (amd64 on x86_64)."""
    machine = platform.machine()
    return _ARCH.get(machine, machine)


def format_time(ns: int) -> str:
    """Go's RFC3339Nano in UTC: trailing zeros of the fraction dropped, no fraction if zero."""
    if ns <= 0:
        return ZERO_TIME
    seconds, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{frac:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def parse_time(text: str) -> int:
    """Unix nanoseconds of an RFC 3339 timestamp; InvalidParameter when malformed."""
    m = _RFC3339.match(text)
    if m is None:
        raise InvalidParameter(f"invalid timestamp {text!r}")
    base, frac, zone = m.groups()
    zone = "+00:00" if zone.upper() == "Z" else zone
    stamp = datetime.fromisoformat(base + zone)
    return int(stamp.timestamp()) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def encode(config: dict[str, Any]) -> bytes:
    """The canonical bytes of a config (whose sha256 is the image id)."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def import_config(
    diff_ids: Iterable[str],
    changes: Iterable[str],
    message: str,
    created_ns: int,
    arch: str | None = None,
    os_name: str = "linux",
) -> dict[str, Any]:
    """The config of an imported root filesystem (what dockerd's ImportImage writes)."""
    created = format_time(created_ns)
    history: dict[str, Any] = {"created": created}
    config: dict[str, Any] = {
        "architecture": arch or host_arch(),
        "config": apply_changes({"Env": [f"PATH={DEFAULT_PATH}"]}, changes),
        "created": created,
        "docker_version": ENGINE_VERSION,
        "history": [history],
        "os": os_name,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }
    if message:
        config["comment"] = history["comment"] = message
    return config


def diff_ids(config: dict[str, Any]) -> list[str]:
    """rootfs.diff_ids, validated; InvalidParameter for a config that is not an image config."""
    rootfs = config.get("rootfs")
    if not isinstance(rootfs, dict) or rootfs.get("type") != "layers":
        raise InvalidParameter('invalid image config: rootfs.type must be "layers"')
    ids = rootfs.get("diff_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InvalidParameter("invalid image config: rootfs.diff_ids must be a list of digests")
    return ids


def created_ns(config: dict[str, Any]) -> int:
    """The config's creation time in unix nanoseconds (0 when absent or unreadable)."""
    try:
        return parse_time(str(config.get("created") or ""))
    except InvalidParameter:
        return 0
