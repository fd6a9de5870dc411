"""`context create|ls|use|rm|inspect|show`: manage named daemon endpoints."""

from __future__ import annotations

import os

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.contexts import DEFAULT, Store, config_dir, parse_docker_option
from dockwright.cli.flags import Parsed
from dockwright.errors import DockwrightError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CONTEXT_HEADER = {
    "Name": "NAME",
    "Description": "DESCRIPTION",
    "DockerEndpoint": "DOCKER ENDPOINT",
    "Error": "ERROR",
}
CONTEXT_TABLE = (
    "table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}"
)


def _store(ctx: Context) -> Store:
    return Store(config_dir(ctx.config_dir))


def _fail(exc: DockwrightError) -> CommandExit:
    return CommandExit(1, str(exc))


def create(ctx: Context, p: Parsed) -> int:
    name = p.args[0]
    try:
        fields = parse_docker_option(p.opts["docker"] or "")
        from dockwright.client.hosts import default_host, parse_host

        host = fields.get("host") or default_host()
        parse_host(host)
        tls = {k: fields[k] for k in ("ca", "cert", "key") if fields.get(k)}
        skip = fields.get("skip-tls-verify", "").lower() in ("1", "true")
        _store(ctx).create(name, host, p.opts["description"], tls, skip)
    except DockwrightError as exc:
        raise _fail(exc) from None
    ctx.out(name)
    ctx.err(f'Successfully created context "{name}"')
    return 0


def _rows(ctx: Context, store: Store) -> list[dict[str, Any]]:
    from dockwright.cli.contexts import resolve
    from dockwright.client.hosts import default_host

    try:
        _, current = resolve(None, ctx.context_flag, store)
    except DockwrightError:
        current = store.current()
    rows = [
        {
            "Name": DEFAULT,
            "Current": current == DEFAULT,
            "Description": "Current DOCKER_HOST based configuration",
            "DockerEndpoint": default_host(),
            "Error": "",
        }
    ]
    for name in store.names():
        meta = store.get(name)
        rows.append(
            {
                "Name": name,
                "Current": current == name,
                "Description": (meta.get("Metadata") or {}).get("Description", ""),
                "DockerEndpoint": meta["Endpoints"]["docker"]["Host"],
                "Error": "",
            }
        )
    return rows


def ls(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.formatter import render_items

    rows = _rows(ctx, _store(ctx))
    if p.opts["quiet"]:
        ctx.stdout.write("".join(r["Name"] + "\n" for r in rows))
        return 0
    fmt = p.opts["format"].strip()
    fmt = CONTEXT_TABLE if fmt in ("", "table") else "{{json .}}" if fmt == "json" else fmt
    ctx.stdout.write(render_items(fmt, rows, {**CONTEXT_HEADER, "Current": ""}))
    return 0


def use(ctx: Context, p: Parsed) -> int:
    name = p.args[0]
    store = _store(ctx)
    try:
        if name != DEFAULT:
            store.get(name)
        store.set_current(name)
    except DockwrightError as exc:
        raise _fail(exc) from None
    ctx.out(name)
    ctx.err(f'Current context is now "{name}"')
    if os.environ.get("DOCKER_HOST"):
        ctx.err(
            "Warning: DOCKER_HOST environment variable overrides the active context. "
            "To use a context, either set the global --context flag, or unset DOCKER_HOST environment variable."
        )
    return 0


def rm(ctx: Context, p: Parsed) -> int:
    store = _store(ctx)
    errors = []
    for name in p.args:
        try:
            store.remove(name)
            ctx.out(name)
        except DockwrightError as exc:
            errors.append(str(exc))
    if errors:
        raise CommandExit(1, "\n".join(errors))
    return 0


def inspect(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_inspect import show

    store = _store(ctx)
    names = p.args or [ctx_current(ctx, store)]
    found: list[Any] = []
    errors = []
    for name in names:
        try:
            found.append(_describe(store, name))
        except DockwrightError as exc:
            errors.append(str(exc))
    show(ctx, found, p.opts["format"])
    if errors:
        raise CommandExit(1, "\n".join(errors))
    return 0


def _describe(store: Store, name: str) -> dict[str, Any]:
    from dockwright.client.hosts import default_host

    if name == DEFAULT:
        meta: dict[str, Any] = {
            "Name": DEFAULT,
            "Metadata": {},
            "Endpoints": {"docker": {"Host": default_host(), "SkipTLSVerify": False}},
        }
    else:
        meta = store.get(name)
    tls_dir = store.tls_dir(name) if name != DEFAULT else ""
    meta["Storage"] = {
        "MetadataPath": os.path.dirname(store.meta_path(name))
        if name != DEFAULT
        else "<IN MEMORY>",
        "TLSPath": os.path.dirname(tls_dir) if tls_dir else "<IN MEMORY>",
    }
    return meta


def ctx_current(ctx: Context, store: Store) -> str:
    from dockwright.cli.contexts import resolve

    try:
        return resolve(None, ctx.context_flag, store)[1]
    except DockwrightError:
        return store.current()


def show(ctx: Context, p: Parsed) -> int:
    ctx.out(ctx_current(ctx, _store(ctx)))
    return 0
