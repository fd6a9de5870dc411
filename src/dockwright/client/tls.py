"""TLS for tcp daemons, configured like docker's `--tls*` flags and DOCKER_TLS_VERIFY/CERT_PATH.

`--tlsverify` (or DOCKER_TLS_VERIFY) checks the daemon's certificate against the CA; `--tls`
alone encrypts without checking it. A client certificate is presented when one is configured
(or found as cert.pem/key.pem in the certificate directory). `ssl` is imported only here.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    import ssl
    from collections.abc import Mapping


class TLSConfig:
    """What to present and what to trust; paths are files (empty = not configured)."""

    __slots__ = ("verify", "ca", "cert", "key")

    def __init__(self, verify: bool, ca: str = "", cert: str = "", key: str = "") -> None:
        self.verify, self.ca, self.cert, self.key = verify, ca, cert, key

    def __repr__(self) -> str:
        return f"TLSConfig(verify={self.verify}, ca={self.ca!r}, cert={self.cert!r})"


def cert_dir(env: Mapping[str, str]) -> str:
    return env.get("DOCKER_CERT_PATH") or os.path.join(os.path.expanduser("~"), ".docker")


def tls_from_options(
    tls: bool,
    verify: bool,
    ca: str = "",
    cert: str = "",
    key: str = "",
    env: Mapping[str, str] | None = None,
) -> TLSConfig | None:
    """docker's rules: --tlsverify implies --tls; DOCKER_TLS_VERIFY turns verification on;
    unset paths default to ca.pem/cert.pem/key.pem in DOCKER_CERT_PATH (when they exist)."""
    env = os.environ if env is None else env
    verify = verify or bool(env.get("DOCKER_TLS_VERIFY"))
    if not (tls or verify):
        return None
    base = cert_dir(env)

    def pick(given: str, name: str) -> str:
        if given:
            return given
        path = os.path.join(base, name)
        return path if os.path.exists(path) else ""

    return TLSConfig(verify, pick(ca, "ca.pem"), pick(cert, "cert.pem"), pick(key, "key.pem"))


def context_for(cfg: TLSConfig) -> ssl.SSLContext:
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cfg.verify:
        if cfg.ca:
            ctx.load_verify_locations(cfg.ca)
        else:
            ctx.load_default_certs()
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cfg.cert and cfg.key:
        ctx.load_cert_chain(cfg.cert, cfg.key)
    return ctx


def wrap(sock: socket.socket, cfg: TLSConfig, host: str) -> socket.socket:
    """The TLS session over `sock` (handshake done; raises ssl.SSLError/OSError on failure)."""
    return context_for(cfg).wrap_socket(sock, server_hostname=host)
