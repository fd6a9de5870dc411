"""`image bootstrap` and `import`: send a root filesystem tarball to `POST /images/create`."""

from __future__ import annotations

import os
import sys
import tempfile

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, Any

CHUNK = 256 * 1024


def split_reference(ref: str) -> tuple[str, str]:
    """`repo[:tag]` → (repo, tag); a colon inside a registry host:port is not a tag."""
    repo, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, "latest"
    return repo, tag


def file_chunks(f: IO[bytes]) -> Iterator[bytes]:
    while data := f.read(CHUNK):
        yield data


def import_stream(ctx: Context, body: Iterator[bytes], params: dict[str, Any]) -> str:
    """Stream `body` as the image rootfs; return the new image id from the progress stream."""
    from dockwright.cli.progress import StreamError, check_error

    resp = ctx.client.request(
        "POST", "/images/create", params, body, {"Content-Type": "application/x-tar"}
    )
    image_id = ""
    for msg in resp.iter_json():
        try:
            check_error(msg)
        except StreamError as exc:
            raise CommandExit(1, str(exc)) from None
        status = str(msg.get("status") or "")
        if status.startswith("sha256:"):
            image_id = status
    if not image_id:
        raise CommandExit(1, "import finished without reporting an image id")
    return image_id


def bootstrap(ctx: Context, p: Parsed) -> int:
    """`image bootstrap busybox [--tag busybox:latest] [--busybox PATH]`, or
    `image bootstrap debian:SUITE [--mirror URI]` (debootstrap; needs root, takes minutes)."""
    from dockwright.cli.bootstrap import check_supported, write_busybox_rootfs
    from dockwright.cli.debootstrap import debian_suite
    from dockwright.errors import DockwrightError

    name = p.args[0]
    try:
        suite = debian_suite(name)
        if suite is not None:
            return bootstrap_debian(ctx, p, suite)
        check_supported(name)
    except DockwrightError as exc:
        raise CommandExit(1, f"Error: {exc.message}") from None
    repo, tag = split_reference(p.opts["tag"] or (name if ":" in name else f"{name}:latest"))
    with tempfile.TemporaryFile() as tmp:
        try:
            write_busybox_rootfs(tmp, p.opts["busybox"])
        except DockwrightError as exc:
            raise CommandExit(1, f"Error: {exc.message}") from None
        tmp.seek(0)
        image_id = import_stream(ctx, file_chunks(tmp), {"fromSrc": "-", "repo": repo, "tag": tag})
    ctx.out(image_id)
    return 0


def bootstrap_debian(ctx: Context, p: Parsed, suite: str) -> int:
    """debootstrap into a scratch directory, stream it as a tar to the daemon, clean up."""
    from dockwright.cli import debootstrap as dbs

    mirror = p.opts["mirror"] or dbs.find_mirror()
    repo, tag = split_reference(p.opts["tag"] or f"debian:{suite}")
    root = dbs.build_dir()
    try:
        ctx.err(f"debootstrap {suite} from {mirror} into {root}")
        dbs.run_debootstrap(suite, root, mirror)
        params = {"fromSrc": "-", "repo": repo, "tag": tag, "changes": [dbs.DEFAULT_CMD]}
        image_id = import_stream(ctx, dbs.tar_chunks(root), params)
    finally:
        dbs.remove_build_dir(root)
    ctx.out(image_id)
    return 0


def import_(ctx: Context, p: Parsed) -> int:
    """`import file|URL|- [REPOSITORY[:TAG]]` with -c/--change and -m/--message."""
    source = p.args[0]
    params: dict[str, Any] = {"message": p.opts["message"] or None, "changes": p.opts["change"]}
    if p.opts.get("platform"):
        params["platform"] = p.opts["platform"]
    if len(p.args) > 1:
        params["repo"], params["tag"] = split_reference(p.args[1])
    if "://" in source:
        params["fromSrc"] = source
        ctx.out(import_stream(ctx, iter(()), params))
        return 0
    params["fromSrc"] = "-"
    if source == "-":
        image_id = import_stream(ctx, file_chunks(sys.stdin.buffer), params)
    else:
        try:
            f = open(os.path.expanduser(source), "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandExit(1, f"open {source}: {(exc.strerror or str(exc)).lower()}") from None
        with f:
            image_id = import_stream(ctx, file_chunks(f), params)
    ctx.out(image_id)
    return 0
