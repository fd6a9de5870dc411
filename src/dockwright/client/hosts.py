"""Where the daemon listens: parse `-H`/`DOCKER_HOST` forms and open the socket."""

from __future__ import annotations

import os

from dockwright.errors import InvalidParameter

TYPE_CHECKING = False  # on the CLI's hot path: no typing/dataclasses/socket imports at run time
if TYPE_CHECKING:
    import socket
    from collections.abc import Mapping

    from dockwright.client.tls import TLSConfig

DEFAULT_HOST = "unix:///run/dockwright.sock"
HOST_ENV = ("DOCKWRIGHT_HOST", "DOCKER_HOST")


class Endpoint:
    """A parsed daemon address: `unix` with a path, or `tcp` with host and port."""

    __slots__ = ("scheme", "path", "host", "port")

    def __init__(self, scheme: str, path: str = "", host: str = "", port: int = 0) -> None:
        self.scheme, self.path, self.host, self.port = scheme, path, host, port

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Endpoint) and self.url == other.url

    def __hash__(self) -> int:
        return hash(self.url)

    @property
    def url(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        return f"tcp://{self.host}:{self.port}"


def parse_host(value: str, tls: bool = False) -> Endpoint:
    """Parse `unix:///path`, `/path`, `tcp://h:p`, `h:p`, `http(s)://h:p` like docker does."""
    value = value.strip()
    if value.startswith("unix://"):
        return _unix(value[len("unix://") :], value)
    if value.startswith("/"):
        return _unix(value, value)
    for prefix in ("tcp://", "http://", "https://"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    else:
        if "://" in value:
            raise InvalidParameter(f"invalid bind address format: {value}")
    return _tcp(value.rstrip("/"), tls)


def _unix(path: str, original: str) -> Endpoint:
    if not path:
        raise InvalidParameter(f"invalid bind address format: {original}")
    return Endpoint("unix", path=path)


def _tcp(hostport: str, tls: bool) -> Endpoint:
    host, sep, port = hostport.rpartition(":")
    if not sep:
        host, port = hostport, ""
    host = host.strip("[]") or "127.0.0.1"
    if port and not port.isdigit():
        raise InvalidParameter(f"invalid bind address format: {hostport}")
    return Endpoint("tcp", host=host, port=int(port) if port else (2376 if tls else 2375))


def default_host(env: Mapping[str, str] | None = None) -> str:
    """The address to use when `-H` is not given: our variable, then docker's, then the default."""
    source: Mapping[str, str] = os.environ if env is None else env
    for name in HOST_ENV:
        if source.get(name):
            return source[name]
    return DEFAULT_HOST


def connect(
    endpoint: Endpoint, timeout: float | None = None, tls: TLSConfig | None = None
) -> socket.socket:
    """Open a stream socket to the daemon; raises OSError when nothing listens.

    Unix sockets use `_socket` directly: the `socket` module imports `enum` and friends, which
    costs more than the request itself. TCP (rare, not on the benchmark) takes the full module.
    """
    if endpoint.scheme == "unix":
        import _socket

        usock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        usock.settimeout(timeout)
        try:
            usock.connect(endpoint.path)
        except OSError:
            usock.close()
            raise
        return usock  # type: ignore[return-value]
    import socket

    sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls is None:
        return sock
    from dockwright.client.tls import wrap

    try:
        return wrap(sock, tls, endpoint.host)
    except OSError:
        sock.close()
        raise
