"""Named daemon endpoints (`context create/ls/use/rm`), stored the way docker stores them.

Layout under the config dir ($DOCKWRIGHT_CONFIG, `--config`, default ~/.dockwright):

    config.json                                   {"currentContext": "name"}
    contexts/meta/<sha256(name)>/meta.json        {"Name", "Metadata": {"Description"},
                                                   "Endpoints": {"docker": {"Host", "SkipTLSVerify"}}}
    contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem

Which endpoint a command uses (docker's precedence): -H, then --context, then DOCKER_HOST,
then DOCKER_CONTEXT, then the current context, then the default.
"""

from __future__ import annotations

import os

from dockwright.errors import Conflict, InvalidParameter, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from dockwright.client.tls import TLSConfig

DEFAULT = "default"


def config_dir(flag: str = "", env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return (
        flag or env.get("DOCKWRIGHT_CONFIG") or os.path.join(os.path.expanduser("~"), ".dockwright")
    )


def _digest(name: str) -> str:
    import hashlib

    return hashlib.sha256(name.encode()).hexdigest()


def _read_json(path: str) -> Any:
    from dockwright.client.fastjson import loads

    try:
        with open(path, "rb") as f:
            return loads(f.read())
    except FileNotFoundError:
        return None


def _write_json(path: str, obj: Any) -> None:
    import json

    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


class Store:
    """Contexts in one config directory."""

    def __init__(self, root: str) -> None:
        self.root = root

    def meta_path(self, name: str) -> str:
        return os.path.join(self.root, "contexts", "meta", _digest(name), "meta.json")

    def tls_dir(self, name: str) -> str:
        return os.path.join(self.root, "contexts", "tls", _digest(name), "docker")

    def current(self) -> str:
        cfg = _read_json(os.path.join(self.root, "config.json")) or {}
        return str(cfg.get("currentContext") or DEFAULT)

    def set_current(self, name: str) -> None:
        path = os.path.join(self.root, "config.json")
        cfg = _read_json(path) or {}
        if name == DEFAULT:
            cfg.pop("currentContext", None)
        else:
            cfg["currentContext"] = name
        _write_json(path, cfg)

    def get(self, name: str) -> dict[str, Any]:
        meta = _read_json(self.meta_path(name))
        if meta is None:
            raise NotFound(f"context {name!r} does not exist")
        return dict(meta)

    def names(self) -> list[str]:
        base = os.path.join(self.root, "contexts", "meta")
        found = []
        for entry in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            meta = _read_json(os.path.join(base, entry, "meta.json"))
            if meta and meta.get("Name"):
                found.append(str(meta["Name"]))
        return sorted(found)

    def create(
        self,
        name: str,
        host: str,
        description: str = "",
        tls: dict[str, str] | None = None,
        skip_verify: bool = False,
    ) -> None:
        check_name(name)
        if os.path.exists(self.meta_path(name)):
            raise Conflict(f'context "{name}" already exists')
        meta = {
            "Name": name,
            "Metadata": {"Description": description},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}},
        }
        _write_json(self.meta_path(name), meta)
        for kind, src in (tls or {}).items():
            os.makedirs(self.tls_dir(name), exist_ok=True)
            with (
                open(src, "rb") as f,
                open(os.path.join(self.tls_dir(name), f"{kind}.pem"), "wb") as out,
            ):
                out.write(f.read())

    def remove(self, name: str) -> None:
        import shutil

        if name == DEFAULT:
            raise InvalidParameter("default context cannot be removed")
        meta = self.meta_path(name)
        if not os.path.exists(meta):
            raise NotFound(f"context {name!r} does not exist")
        shutil.rmtree(os.path.dirname(meta))
        shutil.rmtree(os.path.dirname(self.tls_dir(name)), ignore_errors=True)
        if self.current() == name:
            self.set_current(DEFAULT)


def check_name(name: str) -> None:
    ok = name and name[0].isalnum() and all(c.isalnum() or c in "_.+-" for c in name)
    if not ok or name == DEFAULT:
        raise InvalidParameter(
            f'context name "{name}" is invalid, names are validated against regexp "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"'
            if name != DEFAULT
            else '"default" is a reserved context name'
        )


def parse_docker_option(spec: str) -> dict[str, str]:
    """`--docker host=...,ca=...,cert=...,key=...,skip-tls-verify=true` → its fields."""
    fields: dict[str, str] = {}
    for part in spec.split(","):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or key not in ("host", "ca", "cert", "key", "skip-tls-verify", "from"):
            raise InvalidParameter(f"unrecognized config key: {key}")
        fields[key] = value
    return fields


def resolve(
    host_flag: str | None, context_flag: str, store: Store, env: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
    """(host to use or None for the default, name of the context in effect)."""
    env = os.environ if env is None else env
    if host_flag:
        if context_flag:
            raise InvalidParameter(
                "conflicting options: either specify --host or --context, not both"
            )
        return host_flag, DEFAULT
    name = context_flag
    if not name:
        if env.get("DOCKWRIGHT_HOST") or env.get("DOCKER_HOST"):
            return None, DEFAULT
        name = env.get("DOCKER_CONTEXT") or store.current()
    if name == DEFAULT:
        return None, DEFAULT
    meta = store.get(name)
    return str(meta["Endpoints"]["docker"]["Host"]), name


def context_tls(store: Store, name: str) -> TLSConfig | None:
    """The TLS material stored with a context (None when it has none)."""
    from dockwright.client.tls import TLSConfig

    if name == DEFAULT:
        return None
    folder = store.tls_dir(name)
    files = {k: os.path.join(folder, f"{k}.pem") for k in ("ca", "cert", "key")}
    present = {k: v for k, v in files.items() if os.path.exists(v)}
    if not present:
        return None
    skip = bool(store.get(name)["Endpoints"]["docker"].get("SkipTLSVerify"))
    return TLSConfig(
        not skip, present.get("ca", ""), present.get("cert", ""), present.get("key", "")
    )
