"""dockwrightd: parse flags, build the engine, serve the Engine API until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys
from dataclasses import replace
from pathlib import Path

from dockwright.errors import DockwrightError, InvalidParameter
from dockwright.types.config import DaemonConfig, TlsConfig, load_config_file

log = logging.getLogger("dockwright.daemon")


def parse_args(argv: list[str]) -> DaemonConfig:
    p = argparse.ArgumentParser(prog="dockwrightd", description="the dockwright daemon")
    p.add_argument(
        "-H", "--host", action="append", default=[], help="unix:///path or tcp://host:port"
    )
    p.add_argument("--data-root", type=Path, help="root of persistent state")
    p.add_argument("--exec-root", type=Path, help="root of runtime state (default under /run)")
    p.add_argument("--runtime", "--default-runtime", dest="runtime", help="crun or runc")
    p.add_argument("--cgroup-parent", help="cgroup directory for containers")
    p.add_argument("--config-file", "--config", dest="config_file", type=Path)
    p.add_argument("-D", "--debug", action="store_true")
    p.add_argument("-b", "--bridge", help="bridge device of the default network")
    p.add_argument("--bip", help="gateway address/prefix of the default network, e.g. 10.9.0.1/24")
    p.add_argument("--ip-forward", action="store_true", help="set net.ipv4.ip_forward=1")
    p.add_argument("--ipv6", action="store_true", help="dual-stack default network")
    p.add_argument("--fixed-cidr-v6", help="IPv6 subnet of the default network")
    p.add_argument("--icc", type=_go_bool, nargs="?", const=True,
                   help="containers on the default network may talk to each other (true)")  # fmt: skip
    p.add_argument("--log-driver", help="containers' default log driver (json-file)")
    p.add_argument("--log-opt", action="append", default=[], help="default log driver option")
    p.add_argument("--insecure-registry", action="append", default=[], help="host:port or CIDR")
    p.add_argument("--registry-mirror", action="append", default=[], help="mirror URL")
    p.add_argument("--max-concurrent-downloads", type=int, help="parallel layer downloads")
    p.add_argument("--tls", action="store_true", help="serve TCP addresses with TLS")
    p.add_argument("--tlsverify", action="store_true", help="TLS and require client certificates")
    p.add_argument("--tlscacert", type=Path, help="CA certificates clients must be signed by")
    p.add_argument("--tlscert", type=Path, help="the server certificate")
    p.add_argument("--tlskey", type=Path, help="the server key")
    args = p.parse_args(argv)
    config = DaemonConfig()
    if args.config_file:
        config = load_config_file(args.config_file, config)
    changes: dict[str, object] = {}
    if args.host:
        changes["hosts"] = tuple(args.host)
    if args.data_root:
        changes["data_root"] = args.data_root.resolve()
    if args.exec_root:
        changes["exec_root"] = args.exec_root.resolve()
    if args.runtime:
        changes["default_runtime"] = args.runtime
    if args.cgroup_parent:
        changes["cgroup_parent"] = args.cgroup_parent
    if args.debug:
        changes["debug"] = True
    if args.bridge:
        changes["bridge"] = args.bridge
    if args.bip:
        changes["bip"] = args.bip
    if args.ip_forward:
        changes["ip_forward"] = True
    if args.ipv6:
        changes["ipv6"] = True
    if args.fixed_cidr_v6:
        changes["fixed_cidr_v6"] = args.fixed_cidr_v6
    if args.icc is not None:
        changes["icc"] = args.icc
    if args.log_driver:
        changes["log_driver"] = args.log_driver
    if args.log_opt:
        changes["log_opts"] = {**config.log_opts, **_key_values(args.log_opt, "--log-opt")}
    if args.insecure_registry:
        changes["insecure_registries"] = (*config.insecure_registries, *args.insecure_registry)
    if args.registry_mirror:
        changes["registry_mirrors"] = (*config.registry_mirrors, *args.registry_mirror)
    if args.max_concurrent_downloads:
        changes["max_concurrent_downloads"] = args.max_concurrent_downloads
    if args.tls or args.tlsverify:
        if not (args.tlscert and args.tlskey):
            raise InvalidParameter("--tls needs --tlscert and --tlskey")
        if args.tlsverify and not args.tlscacert:
            raise InvalidParameter("--tlsverify needs --tlscacert")
        changes["tls"] = TlsConfig(args.tlscert, args.tlskey, args.tlscacert, args.tlsverify)
    config = replace(config, **changes)  # type: ignore[arg-type]
    config.runtime_path(config.default_runtime)
    return config


async def serve(config: DaemonConfig) -> None:
    from dockwright.api.app import build_router
    from dockwright.api.server import ApiServer
    from dockwright.engine.engine import Engine

    _reap_children_with_pidfds()
    engine = await Engine.open(config)
    server = ApiServer(build_router(engine), ssl_context=_ssl_context(config.tls))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start(list(config.hosts))
        log.info("API listening on %s", ", ".join(config.hosts))
        await stop.wait()
    finally:
        await server.close()
        await engine.close()


def _go_bool(text: str) -> bool:
    """A flag value as Go's strconv.ParseBool reads it (`--icc=false`)."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def _key_values(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidParameter(f"invalid {flag} {item!r}: expected key=value")
        out[key] = value
    return out


def _reap_children_with_pidfds() -> None:
    """Python 3.11 waits for each subprocess in a thread of its own; a pidfd on the event loop
    costs no thread per `crun exec` or conmon (3.12 does this by itself)."""
    if sys.version_info < (3, 12) and hasattr(os, "pidfd_open"):
        watcher = asyncio.PidfdChildWatcher()
        watcher.attach_loop(asyncio.get_running_loop())
        asyncio.set_child_watcher(watcher)


def _ssl_context(tls: TlsConfig | None) -> ssl.SSLContext | None:
    """The server side of Docker's --tls/--tlsverify (TLS 1.2 or newer)."""
    if tls is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.cert, tls.key)
    if tls.verify and tls.ca:
        context.load_verify_locations(tls.ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def main(argv: list[str] | None = None) -> None:
    try:
        config = parse_args(sys.argv[1:] if argv is None else argv)
    except DockwrightError as exc:
        print(f"dockwrightd: {exc.message}", file=sys.stderr)
        sys.exit(1)
    logging.basicConfig(
        level=logging.DEBUG if config.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if os.geteuid() != 0:
        print("dockwrightd: must run as root", file=sys.stderr)
        sys.exit(1)
    try:
        asyncio.run(serve(config))
    except DockwrightError as exc:
        log.error("%s", exc.message)
        sys.exit(1)
