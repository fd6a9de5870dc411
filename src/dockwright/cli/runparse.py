"""Parsers for the structured values of `run`/`create` flags (pure; errors name the input).

Each returns the Engine API's JSON shape: `--mount` → a Mount object, `-p` → port bindings,
`--ulimit` → Ulimit, `--device` → DeviceMapping, env files → `KEY=VALUE` strings.
"""

from __future__ import annotations

import os

from dockwright.cli.units import ram_in_bytes
from dockwright.errors import InvalidParameter

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

_TRUE = ("", "1", "true", "True", "TRUE", "t", "T")
_FALSE = ("0", "false", "False", "FALSE", "f", "F")


def parse_env_line(line: str, env: Mapping[str, str]) -> str | None:
    """`KEY=VALUE` stays; a bare `KEY` takes the caller's value (dropped when unset)."""
    if "=" in line:
        if line.startswith("="):
            raise InvalidParameter(f"invalid environment variable: {line}")
        return line
    return f"{line}={env[line]}" if line in env else None


def parse_env_file(text: str, name: str, env: Mapping[str, str]) -> list[str]:
    """docker's ParseEnvFile: `#` comments and blank lines skipped, no quote processing."""
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key = line.split("=", 1)[0]
        if any(c.isspace() for c in key):
            raise InvalidParameter(f"variable '{key}' contains whitespaces")
        item = parse_env_line(line, env)
        if item is not None:
            out.append(item)
    return out


def parse_kv_list(items: list[str]) -> dict[str, str]:
    """`k=v` / `k` list (labels, annotations, sysctls, log options) → dict."""
    out: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def parse_restart(text: str) -> dict[str, Any]:
    name, _, count = text.partition(":")
    if name not in ("", "no", "always", "unless-stopped", "on-failure"):
        raise InvalidParameter(f"invalid restart policy format: no such policy: {name}")
    policy: dict[str, Any] = {"Name": name if name != "" else "no"}
    if count:
        if name != "on-failure":
            raise InvalidParameter(
                f"invalid restart policy format: maximum retry count can only be used with 'on-failure': {text}"
            )
        if not count.isdigit():
            raise InvalidParameter(
                f"invalid restart policy format: maximum retry count must be an integer: {count}"
            )
        policy["MaximumRetryCount"] = int(count)
    return policy


def parse_volume(spec: str, cwd: str) -> tuple[str | None, str | None]:
    """`-v`: (bind string, None) for `src:dst[:opts]`, (None, path) for an anonymous volume."""
    parts = spec.split(":")
    if len(parts) == 1:
        if not spec.startswith("/"):
            raise InvalidParameter(f"invalid volume specification: '{spec}'")
        return None, spec
    if len(parts) > 3 or not parts[0] or not parts[1]:
        raise InvalidParameter(f"invalid volume specification: '{spec}'")
    src = parts[0]
    if src.startswith("."):
        src = os.path.normpath(os.path.join(cwd, src))
    if not parts[1].startswith("/"):
        raise InvalidParameter(
            f"invalid volume specification: '{spec}': invalid mount config for type \"bind\": invalid mount path: '{parts[1]}' mount path must be absolute"
        )
    return ":".join([src, *parts[1:]]), None


def _csv_fields(text: str) -> list[str]:
    """Split `a=1,"b=x,y",c` like encoding/csv (quotes protect commas)."""
    fields: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    fields.append("".join(cur))
    return fields


def _bool_opt(key: str, value: str, spec: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidParameter(f"invalid value for {key}: {value} in mount spec {spec!r}")


_MOUNT_KEYS: dict[str, Callable[[dict[str, Any], str, str], None]] = {}


def _mount_key(*names: str) -> Callable[[Callable[[dict[str, Any], str, str], None]], None]:
    def register(fn: Callable[[dict[str, Any], str, str], None]) -> None:
        for name in names:
            _MOUNT_KEYS[name] = fn

    return register


@_mount_key("type")
def _m_type(m: dict[str, Any], value: str, spec: str) -> None:
    m["Type"] = value


@_mount_key("source", "src")
def _m_source(m: dict[str, Any], value: str, spec: str) -> None:
    m["Source"] = value


@_mount_key("target", "destination", "dst")
def _m_target(m: dict[str, Any], value: str, spec: str) -> None:
    m["Target"] = value


@_mount_key("readonly", "ro")
def _m_ro(m: dict[str, Any], value: str, spec: str) -> None:
    m["ReadOnly"] = _bool_opt("readonly", value, spec)


@_mount_key("bind-propagation")
def _m_prop(m: dict[str, Any], value: str, spec: str) -> None:
    m.setdefault("BindOptions", {})["Propagation"] = value


@_mount_key("bind-nonrecursive")
def _m_nonrec(m: dict[str, Any], value: str, spec: str) -> None:
    m.setdefault("BindOptions", {})["NonRecursive"] = _bool_opt("bind-nonrecursive", value, spec)


@_mount_key("volume-nocopy")
def _m_nocopy(m: dict[str, Any], value: str, spec: str) -> None:
    m.setdefault("VolumeOptions", {})["NoCopy"] = _bool_opt("volume-nocopy", value, spec)


@_mount_key("volume-label")
def _m_vlabel(m: dict[str, Any], value: str, spec: str) -> None:
    k, _, v = value.partition("=")
    m.setdefault("VolumeOptions", {}).setdefault("Labels", {})[k] = v


@_mount_key("volume-driver")
def _m_vdriver(m: dict[str, Any], value: str, spec: str) -> None:
    m.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})["Name"] = value


@_mount_key("volume-opt")
def _m_vopt(m: dict[str, Any], value: str, spec: str) -> None:
    k, _, v = value.partition("=")
    cfg = m.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})
    cfg.setdefault("Options", {})[k] = v


@_mount_key("tmpfs-size")
def _m_tsize(m: dict[str, Any], value: str, spec: str) -> None:
    try:
        m.setdefault("TmpfsOptions", {})["SizeBytes"] = ram_in_bytes(value)
    except ValueError as exc:
        raise InvalidParameter(f"invalid value for tmpfs-size: {value}: {exc}") from None


@_mount_key("tmpfs-mode")
def _m_tmode(m: dict[str, Any], value: str, spec: str) -> None:
    try:
        m.setdefault("TmpfsOptions", {})["Mode"] = int(value, 8)
    except ValueError:
        raise InvalidParameter(f"invalid value for tmpfs-mode: {value}") from None


@_mount_key("consistency")
def _m_consistency(m: dict[str, Any], value: str, spec: str) -> None:
    m["Consistency"] = value


def parse_mount(spec: str) -> dict[str, Any]:
    """`--mount type=bind,source=/a,target=/b,readonly` → an API Mount object."""
    m: dict[str, Any] = {"Type": "volume"}
    for field in _csv_fields(spec):
        key, sep, value = field.partition("=")
        key = key.strip().lower()
        handler = _MOUNT_KEYS.get(key)
        if handler is None:
            raise InvalidParameter(f"unexpected key '{key}' in '{field}'")
        if not sep and key not in ("readonly", "ro", "bind-nonrecursive", "volume-nocopy"):
            raise InvalidParameter(f"invalid field '{field}' must be a key=value pair")
        handler(m, value, spec)
    if not m.get("Target"):
        raise InvalidParameter("target is required")
    return m


def parse_tmpfs(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        path, _, opts = item.partition(":")
        out[path] = opts
    return out


def parse_ulimit(spec: str) -> dict[str, Any]:
    """`nofile=1024[:2048]` → {"Name", "Soft", "Hard"}."""
    name, sep, limits = spec.partition("=")
    if not sep or not name:
        raise InvalidParameter(f"invalid ulimit argument: {spec}")
    soft, _, hard = limits.partition(":")
    try:
        s = int(soft)
        h = int(hard) if hard else s
    except ValueError:
        raise InvalidParameter(f"invalid ulimit argument: {spec}") from None
    if s > h:
        raise InvalidParameter(
            f"ulimit soft limit must be less than or equal to hard limit: {s} > {h}"
        )
    return {"Name": name, "Soft": s, "Hard": h}


def parse_device(spec: str) -> dict[str, str]:
    """`/dev/x[:/dev/y][:rwm]` → DeviceMapping."""
    parts = spec.split(":")
    src, dst, perms = parts[0], parts[0], "rwm"
    if len(parts) == 2:
        if all(c in "rwm" for c in parts[1]) and not parts[1].startswith("/"):
            perms = parts[1]
        else:
            dst = parts[1]
    elif len(parts) == 3:
        dst, perms = parts[1], parts[2]
    elif len(parts) > 3:
        raise InvalidParameter(f"invalid device specification: {spec}")
    return {"PathOnHost": src, "PathInContainer": dst, "CgroupPermissions": perms}


def _port_range(text: str, spec: str) -> list[int]:
    if not text:
        return []
    lo, _, hi = text.partition("-")
    try:
        start, end = int(lo), int(hi or lo)
    except ValueError:
        raise InvalidParameter(f"invalid containerPort: {text}") from None
    if not (0 < start <= end <= 65535):
        raise InvalidParameter(f"invalid port range: {spec}")
    return list(range(start, end + 1))


def parse_publish(spec: str) -> dict[str, list[dict[str, str]]]:
    """`[ip:][hostPort:]containerPort[/proto]` (ranges allowed) → PortBindings entries."""
    rest, _, proto = spec.partition("/")
    proto = proto or "tcp"
    ip = ""
    if rest.startswith("["):
        close = rest.find("]")
        ip, rest = rest[1:close], rest[close + 2 :]
    parts = rest.split(":")
    if len(parts) == 3:
        ip, host, container = parts
    elif len(parts) == 2:
        host, container = parts
    elif len(parts) == 1:
        host, container = "", parts[0]
    else:
        raise InvalidParameter(f"invalid port format: {spec}")
    cports = _port_range(container, spec)
    if not cports:
        raise InvalidParameter(f"no port specified: {spec}<empty>")
    hports = _port_range(host, spec)
    if hports and len(hports) not in (1, len(cports)):
        raise InvalidParameter(f"invalid ranges specified for container and host Ports: {spec}")
    out: dict[str, list[dict[str, str]]] = {}
    for i, cport in enumerate(cports):
        hp = "" if not hports else str(hports[i] if len(hports) == len(cports) else hports[0])
        out.setdefault(f"{cport}/{proto}", []).append({"HostIp": ip, "HostPort": hp})
    return out


def parse_expose(spec: str) -> list[str]:
    port, _, proto = spec.partition("/")
    return [f"{p}/{proto or 'tcp'}" for p in _port_range(port, spec)]
