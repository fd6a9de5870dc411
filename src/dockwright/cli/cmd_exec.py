"""`exec`: create an exec instance, start it hijacked (or detached), exit with its code."""

from __future__ import annotations

import os

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.errors import DockwrightError

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from typing import Any


def exec_body(p: Parsed, env: dict[str, str]) -> dict[str, Any]:
    """The `POST /containers/{id}/exec` body for parsed flags (pure)."""
    from dockwright.cli.cmd_run import read_text
    from dockwright.cli.runparse import parse_env_file, parse_env_line

    o = p.opts
    env_list: list[str] = []
    for path in o["env_file"]:
        env_list += parse_env_file(read_text(path), path, env)
    env_list += [e for e in (parse_env_line(x, env) for x in o["env"]) if e is not None]
    attach = not o["detach"]
    body: dict[str, Any] = {
        "User": o["user"],
        "Privileged": o["privileged"],
        "Tty": o["tty"],
        "AttachStdin": bool(o["interactive"] and attach),
        "AttachStdout": attach,
        "AttachStderr": attach,
        "Detach": o["detach"],
        "Cmd": p.args[1:],
        "Env": env_list or None,
        "WorkingDir": o["workdir"],
    }
    if o["detach_keys"]:
        body["DetachKeys"] = o["detach_keys"]
    return body


def exec_(ctx: Context, p: Parsed) -> int:
    from dockwright.cli import session
    from dockwright.cli.escape import DEFAULT_DETACH_KEYS, parse_detach_keys

    container = p.args[0]
    try:
        body = exec_body(p, dict(os.environ))
        keys = parse_detach_keys(p.opts["detach_keys"] or DEFAULT_DETACH_KEYS)
    except DockwrightError as exc:
        raise CommandExit(1, str(exc)) from None
    if body["Tty"] and body["AttachStdin"] and not session.stdin_is_tty():
        raise CommandExit(1, "the input device is not a TTY")
    exec_id = str(ctx.client.post(f"/containers/{container}/exec", None, body)["Id"])
    start = {"Detach": body["Detach"], "Tty": body["Tty"]}
    if body["Detach"]:
        ctx.client.post(f"/exec/{exec_id}/start", None, start)
        return 0
    conn, _ = ctx.client.hijack(f"/exec/{exec_id}/start", None, start)
    spec = session.AttachSpec(body["AttachStdin"], True, True, body["Tty"])
    sess = session.Session(ctx, container, conn, spec, False, keys)
    if sess.interact(f"/exec/{exec_id}/resize"):
        return 0
    info = ctx.client.get(f"/exec/{exec_id}/json") or {}
    code = info.get("ExitCode")
    return int(code) if code is not None else 126
