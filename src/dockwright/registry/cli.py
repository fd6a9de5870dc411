"""`dockwright registry serve ...`: parse arguments, open the stores, serve until a signal.

    registry serve --addr 127.0.0.1:5000 --root DIR [--auth htpasswd:FILE | --auth token:FILE]
                   [--acl FILE] [--anonymous-pull]
                   [--tls-cert F --tls-key F] [--read-only]
                   [--gc-interval SECONDS [--gc-grace SECONDS]] [--proxy NAME=URL ...]
                   [--config FILE.toml]

SIGINT/SIGTERM stop the listener, let requests in flight finish (a grace period) and exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
import ssl
import sys
import tomllib
from pathlib import Path

from dockwright.errors import DockwrightError, InvalidParameter
from dockwright.registry.access import BasicAuth, TokenAuth, parse_acl
from dockwright.registry.app import RegistryApp
from dockwright.registry.auth import Htpasswd
from dockwright.registry.core import Stores
from dockwright.registry.gc import DEFAULT_GRACE, collect_garbage, drop_stale_uploads
from dockwright.registry.http import HttpServer
from dockwright.registry.proxy import PullThrough, parse_proxies

logger = logging.getLogger("dockwright.registry")
STALE_UPLOAD = 24 * 3600.0  # upload sessions idle this long are dropped by the gc loop


def parse_addr(text: str) -> tuple[str, int]:
    """("host", port) from "host:port" or "[v6]:port"; InvalidParameter otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise InvalidParameter(f"invalid address {text!r}: expected host:port")
    return host.strip("[]") or "0.0.0.0", int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dockwright registry")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run an OCI distribution registry")
    serve.add_argument("--addr", default="127.0.0.1:5000")
    serve.add_argument("--config", type=Path, help="TOML file; keys are these flags' names")
    serve.add_argument("--root", type=Path)
    serve.add_argument("--auth", help="htpasswd:FILE (basic) or token:FILE (bearer tokens)")
    serve.add_argument("--acl", type=Path, help="lines of '<user|*|anonymous> <glob> <actions>'")
    serve.add_argument("--anonymous-pull", action="store_true")
    serve.add_argument("--tls-cert", type=Path)
    serve.add_argument("--tls-key", type=Path)
    serve.add_argument("--read-only", action="store_true")
    serve.add_argument(
        "--proxy",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="serve NAME/<repo> from the registry at URL as a pull-through cache",
    )
    serve.add_argument("--gc-interval", type=float, default=0.0, help="seconds; 0 disables")
    serve.add_argument("--gc-grace", type=float, default=DEFAULT_GRACE)
    serve.add_argument("--log-level", default="warning")
    return parser


_PATHS = frozenset({"root", "acl", "tls_cert", "tls_key"})


def apply_config(args: argparse.Namespace, doc: dict[str, object]) -> argparse.Namespace:
    """Fill options not given on the command line from a config document (flags win)."""
    defaults = vars(build_parser().parse_args(["serve"]))
    merged = argparse.Namespace(**vars(args))
    for key, value in doc.items():
        dest = key.replace("-", "_")
        if dest not in defaults or dest in ("command", "config"):
            raise InvalidParameter(f"unknown registry config key {key!r}")
        if getattr(args, dest) == defaults[dest]:
            setattr(merged, dest, Path(str(value)) if dest in _PATHS else value)
    return merged


def load_args(argv: list[str] | None) -> argparse.Namespace:
    """Parsed arguments with the config file (if any) applied; --root is required."""
    args = build_parser().parse_args(argv)
    if args.config is not None:
        try:
            args = apply_config(args, tomllib.loads(args.config.read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidParameter(f"cannot read config {args.config}: {exc}") from None
    if args.root is None:
        raise InvalidParameter("--root is required (on the command line or in the config)")
    return args


def _auth(args: argparse.Namespace) -> BasicAuth | TokenAuth | None:
    if args.auth is None:
        return None
    kind, _, path = args.auth.partition(":")
    if kind not in ("htpasswd", "token") or not path:
        raise InvalidParameter(
            f"invalid --auth {args.auth!r}: expected htpasswd:FILE or token:FILE"
        )
    rules = parse_acl(args.acl.read_text()) if args.acl else None
    users = Htpasswd(Path(path))
    if kind == "token":  # tokens signed with a per-process key: a restart asks clients again
        return TokenAuth(users, secrets.token_bytes(32), rules, args.anonymous_pull)
    return BasicAuth(users, rules, args.anonymous_pull)


def _tls(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise InvalidParameter("--tls-cert and --tls-key go together")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM."""
    host, port = parse_addr(args.addr)
    stores = Stores.open(args.root)
    proxy = PullThrough(stores, parse_proxies(args.proxy)) if args.proxy else None
    app = RegistryApp(stores, auth=_auth(args), read_only=args.read_only, proxy=proxy)
    server = HttpServer(app.handle, _tls(args.tls_cert, args.tls_key))
    await server.start(host, port)
    print(f"registry listening on {host}:{server.port}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with asyncio.TaskGroup() as tg:
        gc = tg.create_task(_gc_loop(app.stores, args.gc_interval, args.gc_grace))
        await stop.wait()
        gc.cancel()
        await server.close()


async def _gc_loop(stores: Stores, interval: float, grace: float) -> None:
    """Collect garbage every `interval` seconds while serving (never when interval is 0)."""
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            report = await collect_garbage(stores, grace)
            drop_stale_uploads(stores, STALE_UPLOAD)
        except Exception:
            logger.exception("garbage collection failed")
            continue
        logger.info("gc removed %s", report)


def main(argv: list[str] | None = None) -> int:
    """Entry point; `argv` starts after `registry` (e.g. ["serve", "--root", "/srv/r"])."""
    try:
        args = load_args(argv)
        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
        asyncio.run(serve(args))
    except (DockwrightError, OSError) as exc:
        print(f"registry: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
