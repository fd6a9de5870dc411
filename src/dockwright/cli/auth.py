"""Registry credentials: stored in the config dir's config.json under "auths" (docker's shape),
and sent to the daemon as the base64url JSON `X-Registry-Auth` header."""

from __future__ import annotations

import base64
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INDEX_SERVER = "https://index.docker.io/v1/"


def registry_of(reference: str) -> str:
    """The registry host a reference lives on (`INDEX_SERVER` for Docker Hub names)."""
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return INDEX_SERVER


def server_key(server: str) -> str:
    """How a server is named in "auths": hosts bare, Docker Hub by its index URL."""
    if server in ("", "docker.io", "index.docker.io", "registry-1.docker.io", INDEX_SERVER):
        return INDEX_SERVER
    return server.removeprefix("https://").removeprefix("http://").rstrip("/")


def _config_path(config_dir: str) -> str:
    return os.path.join(config_dir, "config.json")


def load_config(config_dir: str) -> dict[str, Any]:
    from dockwright.client.fastjson import loads

    try:
        with open(_config_path(config_dir), "rb") as f:
            return dict(loads(f.read()))
    except FileNotFoundError:
        return {}


def save_config(config_dir: str, cfg: dict[str, Any]) -> None:
    import json

    os.makedirs(config_dir, exist_ok=True)
    path = _config_path(config_dir)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(cfg, f, indent=1)
    os.replace(tmp, path)


def store_credentials(config_dir: str, server: str, username: str, password: str) -> None:
    cfg = load_config(config_dir)
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    cfg.setdefault("auths", {})[server_key(server)] = {"auth": token}
    save_config(config_dir, cfg)


def remove_credentials(config_dir: str, server: str) -> bool:
    cfg = load_config(config_dir)
    removed = cfg.get("auths", {}).pop(server_key(server), None) is not None
    if removed:
        save_config(config_dir, cfg)
    return removed


def credentials(config_dir: str, server: str) -> tuple[str, str] | None:
    entry = load_config(config_dir).get("auths", {}).get(server_key(server))
    if not entry or not entry.get("auth"):
        return None
    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
    return user, password


def registry_auth_header(config_dir: str, reference: str) -> dict[str, str]:
    """{"X-Registry-Auth": ...} for `reference`'s registry (an empty auth when none stored)."""
    import json

    server = registry_of(reference)
    found = credentials(config_dir, server)
    auth: dict[str, str] = {}
    if found:
        auth = {"username": found[0], "password": found[1], "serveraddress": server_key(server)}
    encoded = base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()
    return {"X-Registry-Auth": encoded}
