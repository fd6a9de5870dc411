"""Registry and archive commands: pull, push, login, logout, save, load."""

from __future__ import annotations

import sys

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, Any

CHUNK = 256 * 1024


def _config_dir(ctx: Context) -> str:
    from dockwright.cli.contexts import config_dir

    return config_dir(ctx.config_dir)


def split_ref(ref: str) -> tuple[str, str, str]:
    """(repository, tag, digest) of `name[:tag][@digest]`; tag empty when not given."""
    name, _, digest = ref.partition("@")
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        repo, tag = name, ""
    return repo, tag, digest


def _show_stream(ctx: Context, resp: Any, quiet: bool) -> None:
    from dockwright.cli.progress import StreamError, display

    out = ctx.stdout if not quiet else _Sink()
    try:
        display(resp.iter_json(), out, tty=ctx.stdout.isatty() and not quiet)  # type: ignore[arg-type]
    except StreamError as exc:
        raise CommandExit(1, str(exc)) from None


class _Sink:
    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass


def pull_image(ctx: Context, ref: str, quiet: bool = False, all_tags: bool = False) -> str:
    """Pull through the daemon, showing its progress; returns the full reference pulled."""
    from dockwright.cli.auth import registry_auth_header
    from dockwright.cli.cmd_run import normalized_repo

    repo, tag, digest = split_ref(ref)
    if not tag and not digest and not all_tags:
        tag = "latest"
        if not quiet:
            ctx.out("Using default tag: latest")
    full = normalized_repo(repo)
    params = {"fromImage": full, "tag": digest or tag or None}
    headers = registry_auth_header(_config_dir(ctx), full)
    resp = ctx.client.request("POST", "/images/create", params, None, headers)
    _show_stream(ctx, resp, quiet)
    return full + (f"@{digest}" if digest else f":{tag}" if tag else "")


def pull(ctx: Context, p: Parsed) -> int:
    ctx.out(pull_image(ctx, p.args[0], p.opts["quiet"], p.opts["all_tags"]))
    return 0


def push(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.auth import registry_auth_header

    repo, tag, _ = split_ref(p.args[0])
    if not tag and not p.opts["all_tags"]:
        tag = "latest"
        ctx.out("Using default tag: latest")
    params = {"tag": tag or None}
    headers = registry_auth_header(_config_dir(ctx), repo)
    resp = ctx.client.request("POST", f"/images/{repo}/push", params, None, headers)
    _show_stream(ctx, resp, p.opts["quiet"])
    return 0


def _read_password(ctx: Context, p: Parsed) -> str:
    if p.opts["password_stdin"]:
        if p.opts["password"]:
            raise CommandExit(1, "--password and --password-stdin are mutually exclusive")
        if not p.opts["username"]:
            raise CommandExit(1, "Must provide --username with --password-stdin")
        return ctx.stdin.read().decode().rstrip("\r\n")
    if p.opts["password"]:
        ctx.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
        return str(p.opts["password"])
    import getpass

    return getpass.getpass("Password: ")


def login(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.auth import INDEX_SERVER, server_key, store_credentials

    server = p.args[0] if p.args else INDEX_SERVER
    username = p.opts["username"] or input("Username: ").strip()
    password = _read_password(ctx, p)
    body = {"username": username, "password": password, "serveraddress": server_key(server)}
    result = ctx.client.post("/auth", None, body) or {}
    store_credentials(_config_dir(ctx), server, username, password)
    ctx.out(str(result.get("Status") or "Login Succeeded"))
    return 0


def logout(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.auth import INDEX_SERVER, remove_credentials, server_key

    server = server_key(p.args[0] if p.args else INDEX_SERVER)
    if remove_credentials(_config_dir(ctx), server):
        ctx.out(f"Removing login credentials for {server}")
    else:
        ctx.out(f"Not logged in to {server}")
    return 0


def save(ctx: Context, p: Parsed) -> int:
    return ctx.download("/images/get", {"names": list(p.args)}, p.opts["output"])


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    while data := f.read(CHUNK):
        yield data


def load(ctx: Context, p: Parsed) -> int:
    source = p.opts["input"]
    if not source and sys.stdin.isatty():
        raise CommandExit(1, "requested load from stdin, but stdin is empty")
    params = {"quiet": True if p.opts["quiet"] else None}
    headers = {"Content-Type": "application/x-tar"}
    if source:
        try:
            f = open(source, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise CommandExit(1, f"open {source}: {(exc.strerror or str(exc)).lower()}") from None
        with f:
            resp = ctx.client.request("POST", "/images/load", params, _chunks(f), headers)
            _show_stream(ctx, resp, False)
        return 0
    resp = ctx.client.request("POST", "/images/load", params, _chunks(ctx.stdin), headers)
    _show_stream(ctx, resp, False)
    return 0
