"""`dockwright build --secret id=x[,src=FILE|,env=VAR][,type=file|env]`: buildx's grammar.

`id=x` alone reads the environment variable `x` when it is set, else the file `x`, as BuildKit's
secrets provider does. The values go to the daemon in one header (types/buildsecrets.py).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dockwright.cli.context import CommandExit
from dockwright.errors import InvalidParameter
from dockwright.types import buildsecrets


@dataclass(frozen=True)
class SecretSpec:
    id: str
    file: str = ""
    env: str = ""


def parse_secret(text: str) -> SecretSpec:
    """One `--secret` value (pure); CommandExit with buildx's messages."""
    rows = list(csv.reader([text]))
    kind, secret_id, file, env = "", "", "", ""
    for field in rows[0] if rows else []:
        key, eq, value = field.partition("=")
        key = key.lower()
        if not eq:
            raise CommandExit(1, f"invalid field '{field}' must be a key=value pair")
        if key == "type":
            if value not in ("file", "env"):
                raise CommandExit(1, f'unsupported secret type "{value}"')
            kind = value
        elif key == "id":
            secret_id = value
        elif key in ("source", "src"):
            file = value
        elif key == "env":
            env = value
        else:
            raise CommandExit(1, f"unexpected key '{key}' in '{field}'")
    if kind == "env" and not env:
        env, file = file, ""
    if not secret_id:
        raise CommandExit(1, "secret ID missing from --secret " + text)
    return SecretSpec(secret_id, file, env)


def read_secret(spec: SecretSpec, environ: Mapping[str, str]) -> bytes:
    """The secret's bytes from its variable or file (neither given: variable `id`, else file)."""
    env, file = spec.env, spec.file
    if not env and not file:
        env, file = (spec.id, "") if spec.id in environ else ("", spec.id)
    if env:
        if env not in environ:
            raise CommandExit(1, f"secret {spec.id}: environment variable {env} is not set")
        return environ[env].encode()
    try:
        with open(os.path.expanduser(file), "rb") as f:
            return f.read()
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise CommandExit(1, f"failed to read secret {spec.id} from {file}: {reason}") from None


def secret_headers(values: Iterable[str], environ: Mapping[str, str]) -> dict[str, str]:
    """The request headers that carry the `--secret` values (none without secrets)."""
    secrets = {}
    for text in values:
        spec = parse_secret(text)
        secrets[spec.id] = read_secret(spec, environ)
    if not secrets:
        return {}
    try:
        return {buildsecrets.HEADER: buildsecrets.encode(secrets)}
    except InvalidParameter as exc:
        raise CommandExit(1, exc.message) from None
