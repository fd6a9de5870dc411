"""`run`, `create`, `start` and `attach`."""

from __future__ import annotations

import os

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.client.errors import APIError
from dockwright.errors import DockwrightError

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from typing import Any


def run_error(ctx: Context, p: Parsed, message: str, status: int = 125) -> CommandExit:
    """docker's run/create failure text: `docker: <msg>` + the help hint."""
    full = p.opts.get("_full", f"{ctx.prog} run")
    return CommandExit(status, f"{ctx.prog}: {message}\n\nRun '{full} --help' for more information")


def start_status(message: str) -> int:
    """docker's toStatusError: 127 not found, 126 cannot execute, else 125."""
    if "executable file not found" in message or "no such file or directory" in message:
        return 127
    if "permission denied" in message or "is a directory" in message:
        return 126
    return 125


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise DockwrightError(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None


def full_image_name(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in image else f"{image}:latest"


def normalized_repo(repo: str) -> str:
    """docker's ParseNormalizedNamed: `busybox` → `docker.io/library/busybox`."""
    first, sep, _ = repo.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return repo
    return f"docker.io/{repo}" if sep else f"docker.io/library/{repo}"


def _pull(ctx: Context, image: str, quiet: bool) -> None:
    from dockwright.cli.auth import registry_auth_header
    from dockwright.cli.cmd_bootstrap import split_reference
    from dockwright.cli.contexts import config_dir
    from dockwright.cli.progress import StreamError, display

    repo, tag = split_reference(full_image_name(image))
    repo = normalized_repo(repo)
    headers = registry_auth_header(config_dir(ctx.config_dir), repo)
    params = {"fromImage": repo, "tag": tag}
    resp = ctx.client.request("POST", "/images/create", params, None, headers)
    try:
        display(resp.iter_json(), ctx.stderr if not quiet else _Null(), tty=False)  # type: ignore[arg-type]
    except StreamError as exc:
        raise APIError(500, str(exc)) from None


class _Null:
    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass


def create_container(ctx: Context, p: Parsed, req: Any) -> str:
    """POST /containers/create, pulling first when the image is missing (pull=missing)."""
    policy = p.opts["pull"]
    image = p.args[0]
    if policy == "always":
        _pull(ctx, image, p.opts["quiet"])
    try:
        resp = ctx.client.post("/containers/create", req.params, req.body)
    except APIError as exc:
        if not exc.not_found or "image" not in exc.message.lower() or policy == "never":
            raise
        ctx.err(f"Unable to find image '{full_image_name(image)}' locally")
        _pull(ctx, image, p.opts["quiet"])
        resp = ctx.client.post("/containers/create", req.params, req.body)
    for warning in resp.get("Warnings") or []:
        ctx.err(f"WARNING: {warning}")
    cid = str(resp["Id"])
    if p.opts["cidfile"]:
        _write_cidfile(p.opts["cidfile"], cid)
    return cid


def _write_cidfile(path: str, cid: str) -> None:
    if os.path.exists(path):
        raise DockwrightError(
            f"container ID file found, make sure the other container isn't running or delete {path}"
        )
    with open(path, "w") as f:
        f.write(cid)


def _build(ctx: Context, p: Parsed, detach: bool, auto_remove: bool) -> Any:
    from dockwright.cli.runopts import build_create

    return build_create(p, os.environ, read_text, os.getcwd(), detach, auto_remove)


def create(ctx: Context, p: Parsed) -> int:
    try:
        req = _build(ctx, p, False, p.opts["rm"])
        ctx.out(create_container(ctx, p, req))
    except DockwrightError as exc:
        raise run_error(ctx, p, str(exc)) from None
    return 0


def run(ctx: Context, p: Parsed) -> int:
    try:
        return _run(ctx, p)
    except DockwrightError as exc:
        raise run_error(ctx, p, str(exc)) from None


def _run(ctx: Context, p: Parsed) -> int:
    from dockwright.cli import session
    from dockwright.cli.escape import DEFAULT_DETACH_KEYS, parse_detach_keys

    o = p.opts
    detach = o["detach"]
    keys = parse_detach_keys(o["detach_keys"] or DEFAULT_DETACH_KEYS)
    req = _build(ctx, p, detach, o["rm"])
    cfg = req.body
    if not detach and cfg["Tty"] and cfg["AttachStdin"] and not session.stdin_is_tty():
        raise CommandExit(1, "the input device is not a TTY")
    if cfg["AttachStdin"]:
        cfg["StdinOnce"] = True
    cid = create_container(ctx, p, req)
    if detach:
        _start(ctx, cid)
        ctx.out(cid)
        return 0
    spec = session.AttachSpec(
        cfg["AttachStdin"], cfg["AttachStdout"], cfg["AttachStderr"], cfg["Tty"], o["detach_keys"]
    )
    condition = "removed" if o["rm"] else "next-exit"
    try:
        return attached_start(ctx, cid, spec, keys, o["sig_proxy"], condition)
    except StartFailed as exc:
        raise run_error(ctx, p, str(exc.error), start_status(exc.error.message)) from None


def _start(ctx: Context, cid: str) -> None:
    try:
        ctx.client.request("POST", f"/containers/{cid}/start").read()
    except APIError as exc:
        raise CommandExit(start_status(exc.message), f"{ctx.prog}: {exc}") from None


class StartFailed(Exception):
    """The daemon refused `start` after the attach was set up (the caller words the error)."""

    def __init__(self, error: APIError) -> None:
        super().__init__(str(error))
        self.error = error


def attached_start(
    ctx: Context, cid: str, spec: Any, keys: bytes, sig_proxy: bool, condition: str
) -> int:
    """Attach, register the wait, start, pump; the container's exit code (or 0 on detach)."""
    from dockwright.cli import session

    conn = session.hijack_attach(ctx.client, cid, spec)
    waiter = session.Waiter(ctx.new_client(), cid, condition).start()
    try:
        ctx.client.request("POST", f"/containers/{cid}/start").read()
    except APIError as exc:
        conn.close()
        if condition == "removed":
            waiter.result(timeout=10)
        raise StartFailed(exc) from None
    sess = session.Session(ctx, cid, conn, spec, sig_proxy, keys)
    if sess.interact(f"/containers/{cid}/resize"):
        return 0
    status, error = waiter.result()
    if error:
        ctx.err(f"Error waiting for container: {error}")
    return status


def start(ctx: Context, p: Parsed) -> int:
    if p.opts["attach"] or p.opts["interactive"]:
        if len(p.args) > 1:
            raise CommandExit(1, "Error: you cannot start and attach multiple containers at once")
        return _start_attached(ctx, p, p.args[0])
    failed = []
    for name in p.args:
        try:
            ctx.client.request("POST", f"/containers/{name}/start").read()
            ctx.out(name)
        except DockwrightError as exc:
            ctx.err(str(exc))
            failed.append(name)
    if failed:
        raise CommandExit(1, f"Error: failed to start containers: {', '.join(failed)}")
    return 0


def _start_attached(ctx: Context, p: Parsed, name: str) -> int:
    from dockwright.cli.escape import DEFAULT_DETACH_KEYS, parse_detach_keys
    from dockwright.cli.session import AttachSpec

    info = ctx.client.get(f"/containers/{name}/json")
    cfg = info.get("Config") or {}
    spec = AttachSpec(
        bool(p.opts["interactive"] and cfg.get("OpenStdin")),
        True,
        True,
        bool(cfg.get("Tty")),
        p.opts["detach_keys"],
    )
    keys = parse_detach_keys(p.opts["detach_keys"] or DEFAULT_DETACH_KEYS)
    cid = str(info["Id"])
    try:
        return attached_start(ctx, cid, spec, keys, not spec.tty, "next-exit")
    except StartFailed as exc:
        raise CommandExit(start_status(exc.error.message), str(exc.error)) from None


def attach(ctx: Context, p: Parsed) -> int:
    from dockwright.cli import session
    from dockwright.cli.escape import DEFAULT_DETACH_KEYS, parse_detach_keys

    info = ctx.client.get(f"/containers/{p.args[0]}/json")
    state, cfg, cid = info.get("State") or {}, info.get("Config") or {}, str(info["Id"])
    if not state.get("Running"):
        raise CommandExit(1, "You cannot attach to a stopped container, start it first")
    if state.get("Paused"):
        raise CommandExit(1, "You cannot attach to a paused container, unpause it first")
    spec = session.AttachSpec(
        bool(cfg.get("OpenStdin") and not p.opts["no_stdin"]),
        True,
        True,
        bool(cfg.get("Tty")),
        p.opts["detach_keys"],
    )
    keys = parse_detach_keys(p.opts["detach_keys"] or DEFAULT_DETACH_KEYS)
    waiter = session.Waiter(ctx.new_client(), cid, "").start()
    conn = session.hijack_attach(ctx.client, cid, spec)
    sess = session.Session(ctx, cid, conn, spec, p.opts["sig_proxy"], keys)
    if sess.interact(f"/containers/{cid}/resize"):
        return 0
    status, _ = waiter.result()
    return status
