"""`dockwright build`: send a context to `POST /build` and show the daemon's stream like docker."""

from __future__ import annotations

import os

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from tempfile import TemporaryDirectory
    from typing import Any

    from dockwright.cli.buildctx import Context as BuildContext

PROGRESS_MODES = ("auto", "plain", "tty")


def parse_kv(items: Iterable[str], env: Mapping[str, str], from_env: bool) -> dict[str, Any]:
    """`KEY=VAL` pairs; a bare `KEY` takes the environment's value (None when unset, which the
    daemon drops) for build args, or "" for labels."""
    result: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if eq:
            result[key] = value
        else:
            result[key] = env.get(key) if from_env else ""
    return result


def build_params(
    opts: Mapping[str, Any], dockerfile: str, env: Mapping[str, str]
) -> dict[str, Any]:
    """The query of `POST /build` for the parsed flags (pure)."""
    from dockwright.cli.units import ram_in_bytes

    if opts["progress"] not in PROGRESS_MODES:
        raise CommandExit(1, f"invalid argument for --progress: {opts['progress']!r}")
    import json

    return {
        "dockerfile": dockerfile,
        "t": list(opts["tag"]) or None,
        "buildargs": parse_kv(opts["build_arg"], env, True) or None,
        "labels": parse_kv(opts["label"], env, False) or None,
        "target": opts["target"] or None,
        "nocache": opts["no_cache"] or None,
        "pull": opts["pull"] or None,
        "q": opts["quiet"] or None,
        "rm": opts["rm"],
        "forcerm": opts["force_rm"] or None,
        "networkmode": opts["network"] or None,
        "extrahosts": ",".join(opts["add_host"]) or None,
        "shmsize": ram_in_bytes(opts["shm_size"]) if opts["shm_size"] else None,
        "cachefrom": json.dumps(list(opts["cache_from"])) if opts["cache_from"] else None,
        "platform": opts["platform"] or None,
    }


def _read_stdin_dockerfile(ctx: Context, p: Parsed) -> bytes | None:
    if p.opts["file"] != "-":
        return None
    if p.args[0] == "-":
        raise CommandExit(
            1, "invalid argument: can't use stdin for both build context and dockerfile"
        )
    return ctx.stdin.read()


def open_context(ctx: Context, p: Parsed, workdir: Callable[[], str]) -> BuildContext:
    """Plan the context for the PATH | URL | - argument (a git URL is cloned into a
    `workdir()`, made only then)."""
    from dockwright.cli import buildsrc
    from dockwright.cli.buildctx import is_git_url

    source, dockerfile = p.args[0], p.opts["file"]
    stdin_dockerfile = _read_stdin_dockerfile(ctx, p)
    if source == "-":
        return buildsrc.stdin_context(ctx.stdin, dockerfile)
    if is_git_url(source):
        context_dir = buildsrc.clone(source, workdir())
        if stdin_dockerfile is not None:
            return buildsrc.dir_context(context_dir, "", stdin_dockerfile)
        return buildsrc.git_context(context_dir, dockerfile)
    return buildsrc.dir_context(source, "" if stdin_dockerfile else dockerfile, stdin_dockerfile)


def build(ctx: Context, p: Parsed) -> int:
    from contextlib import ExitStack

    with ExitStack() as stack:
        bctx = open_context(ctx, p, lambda: stack.enter_context(_tempdir()))
        params = build_params(p.opts, bctx.dockerfile, os.environ)
        headers = {"Content-Type": "application/x-tar"}
        if p.opts["secret"]:
            from dockwright.cli.buildsecret import secret_headers

            headers.update(secret_headers(p.opts["secret"], os.environ))
        if p.opts["ssh"]:
            from dockwright.cli.buildssh import forward_ssh

            headers.update(stack.enter_context(forward_ssh(ctx.client, p.opts["ssh"], os.environ)))
        chunks = bctx.chunks
        if bctx.local is not None:  # only what the daemon lacks (buildsync.py)
            from dockwright.cli.buildsync import upload

            chunks, sync_headers = upload(ctx.client, bctx.local)
            headers.update(sync_headers)
        plain = p.opts["progress"] == "plain" and not p.opts["quiet"]
        body = chunks if p.opts["quiet"] or plain else counted(ctx, chunks)
        resp = ctx.client.request("POST", "/build", params, body, headers)
        if plain:
            from dockwright.cli.buildprogress import show_plain

            image_id = show_plain(ctx, resp.iter_json())
        else:
            image_id = show(ctx, resp.iter_json(), p.opts["quiet"])
    if p.opts["quiet"]:
        ctx.out(image_id)
    if p.opts["iidfile"]:
        with open(p.opts["iidfile"], "w") as f:
            f.write(image_id)
    return 0


def _tempdir() -> TemporaryDirectory[str]:
    import tempfile

    return tempfile.TemporaryDirectory(prefix="dockwright-build-")


def counted(ctx: Context, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Pass the context through; once sent, say its size as docker's upload progress does."""
    from dockwright.cli.units import human_size

    total = 0
    for chunk in chunks:
        total += len(chunk)
        yield chunk
    ctx.stdout.write(f"Sending build context to Docker daemon  {human_size(total)}\n\n")
    ctx.stdout.flush()


def show(ctx: Context, messages: Iterable[dict[str, Any]], quiet: bool) -> str:
    """Print the stream (nothing when quiet); the image id from `aux`; errors exit with the
    daemon's message and code, as docker's `jsonmessage` error does."""
    from dockwright.cli.buildprogress import stream_error
    from dockwright.cli.progress import display

    image_id = ""

    def watch() -> Iterable[dict[str, Any]]:
        nonlocal image_id
        for msg in messages:
            failed = stream_error(msg)
            if failed is not None:
                raise failed
            aux = msg.get("aux")
            if isinstance(aux, dict):
                image_id = str(aux.get("ID") or image_id)
            elif not quiet:  # docker hands aux messages to a callback, never prints them
                yield msg

    display(watch(), ctx.stdout, tty=False)
    return image_id
