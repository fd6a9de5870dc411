"""The `dockwright` entry point: global flags, command lookup, error texts and exit codes.

Only the flag parser and the command table are imported up front; each command's module is
imported when it runs, so `dockwright ps` loads little more than a socket and json.
"""

from __future__ import annotations

import os
import sys

from dockwright.cli import spec
from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import (
    Command,
    Parsed,
    UsageError,
    check_args,
    format_help,
    parse,
    usage_line,
)

TYPE_CHECKING = False  # every invocation imports this module: keep typing out of it
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    Handler = Callable[[Context, Parsed], int]


def _usage_error(ctx: Context, exc: UsageError, full: str) -> int:
    prefix = f"{ctx.prog}: " if exc.status == 1 else ""
    ctx.err(f"{prefix}{exc}")
    if exc.command is not None:
        ctx.err(f"\nUsage:  {usage_line(exc.command, full)}\n")
    verb = "See" if exc.status == 1 else "Run"
    ctx.err(f"{verb} '{full} --help' for more information")
    return exc.status


def top_help(prog: str) -> str:
    lines = [f"Usage:  {prog} [OPTIONS] COMMAND", "", spec.GLOBAL.summary, "", "Commands:"]
    seen = sorted(k for k in spec.ROUTES if " " not in k)
    lines += [f"  {name:<11} {spec.COMMANDS[spec.ROUTES[name]].summary}" for name in seen]
    lines += ["", "Management Commands:"]
    lines += [f"  {g:<11} {text}" for g, text in spec.GROUPS.items()]
    lines += ["", f"Run '{prog} COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"


def group_help(prog: str, group: str) -> str:
    verbs = sorted(
        k.split(" ", 1)[1] for k, v in spec.ROUTES.items() if k == v and k.startswith(group)
    )
    lines = [f"Usage:  {prog} {group} COMMAND", "", spec.GROUPS[group], "", "Commands:"]
    for verb in verbs:
        lines.append(f"  {verb:<11} {spec.COMMANDS[spec.ROUTES[f'{group} {verb}']].summary}")
    lines += ["", f"Run '{prog} {group} COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"


def _unknown(ctx: Context, words: list[str]) -> int:
    if words[0] in spec.GROUPS and (len(words) == 1 or words[1] in ("--help", "-h")):
        ctx.stdout.write(group_help(ctx.prog, words[0]))
        return 0
    shown = " ".join(words[:2]) if words[0] in spec.GROUPS else words[0]
    ctx.err(f"{ctx.prog}: unknown command: {ctx.prog} {shown}\n")
    if words[0] in spec.GROUPS:
        ctx.err(f"Usage:  {ctx.prog} {words[0]}\n")
        ctx.err(f"Run '{ctx.prog} {words[0]} --help' for more information")
    else:
        ctx.err(f"Run '{ctx.prog} --help' for more information")
    return 1


def load_handler(cmd: Command) -> Handler:
    module, _, func = cmd.handler.partition(":")
    __import__(module)
    handler: Handler = getattr(sys.modules[module], func)
    return handler


def dispatch(ctx: Context, words: list[str]) -> int:
    """Run the command named by `words` (global flags already removed)."""
    key, rest = spec.resolve(words)
    if key is None:
        return _unknown(ctx, words)
    cmd = spec.COMMANDS[key]
    full = " ".join([ctx.prog, *words[: len(words) - len(rest)]])
    try:
        parsed = parse(cmd, rest)
        if parsed.help:
            ctx.stdout.write(format_help(cmd, full))
            return 0
        check_args(cmd, full, parsed.args)
    except UsageError as exc:
        return _usage_error(ctx, exc, full)
    parsed.opts["_full"] = full
    return load_handler(cmd)(ctx, parsed)


def configure(ctx: Context, g: Parsed) -> None:
    """Pick the daemon (-H, --context, DOCKER_HOST, DOCKER_CONTEXT, current context) and TLS."""
    o = g.opts
    ctx.debug = o["debug"]
    ctx.config_dir = o["config"]
    ctx.context_flag = o["context"]
    host_flag = o["host"][-1] if o["host"] else None
    env_host = os.environ.get("DOCKWRIGHT_HOST") or os.environ.get("DOCKER_HOST")
    if host_flag or (env_host and not ctx.context_flag):
        ctx.host = host_flag
    else:
        from dockwright.cli.contexts import Store, config_dir, context_tls, resolve

        store = Store(config_dir(ctx.config_dir))
        ctx.host, name = resolve(host_flag, ctx.context_flag, store)
        ctx.tls = context_tls(store, name)
    if o["tls"] or o["tlsverify"] or os.environ.get("DOCKER_TLS_VERIFY"):
        from dockwright.client.tls import tls_from_options

        ctx.tls = tls_from_options(
            o["tls"], o["tlsverify"], o["tlscacert"], o["tlscert"], o["tlskey"]
        )


def run_cli(ctx: Context, argv: Sequence[str]) -> int:
    """Parse global flags, then dispatch; every expected failure becomes docker's text + code."""
    from dockwright.errors import DockwrightError

    try:
        g = parse(spec.GLOBAL, argv)
    except UsageError as exc:
        return _usage_error(ctx, exc, ctx.prog)
    if g.opts["version"]:
        from dockwright import __version__

        ctx.out(f"dockwright version {__version__}")
        return 0
    if g.help or not g.args:
        ctx.stdout.write(top_help(ctx.prog))
        return 0
    try:
        configure(ctx, g)
    except DockwrightError as exc:
        ctx.err(str(exc))
        return 1
    try:
        return dispatch(ctx, g.args)
    except CommandExit as exc:
        if exc.message:
            ctx.err(exc.message)
        return exc.status
    except DockwrightError as exc:
        ctx.err(
            str(exc) if type(exc).__module__.startswith("dockwright.client") else f"Error: {exc}"
        )
        return 1
    except (OSError, ValueError) as exc:
        # the daemon went away mid-stream, a broken response, a local file problem: one line,
        # like docker's "error during connect: ..."; -D shows where it came from
        if ctx.debug:
            import traceback

            traceback.print_exc()
        ctx.err(f"error during connect: {exc}" if _is_connection(exc) else f"Error: {exc}")
        return 1


def _is_connection(exc: BaseException) -> bool:
    from dockwright.client.http import ProtocolError

    return isinstance(exc, ConnectionError | ProtocolError | TimeoutError)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["registry"]:
        # `dockwright registry serve …` runs the registry server (a separate app, not an API client)
        from dockwright.registry.cli import main as registry_main

        return registry_main(args[1:])
    ctx = Context()
    try:
        status = run_cli(ctx, args)
        ctx.stdout.flush()
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
