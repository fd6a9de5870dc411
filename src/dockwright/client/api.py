"""`Client`: Engine API requests over one keep-alive connection, with version negotiation.

Ownership: a `Response` borrows the client's connection until its body is read or it is closed;
a hijacked connection (`Client.hijack`) is handed over to the caller and never reused.
"""

from __future__ import annotations

import os

from dockwright.client import http
from dockwright.client.errors import APIError, DaemonUnreachable, error_message
from dockwright.client.fastjson import loads
from dockwright.client.hosts import Endpoint, connect, default_host, parse_host

TYPE_CHECKING = False  # on the CLI's hot path: json/socket/typing are imported only when needed
if TYPE_CHECKING:
    import socket
    from collections.abc import Iterable, Iterator, Mapping
    from typing import Any

    from dockwright.client.tls import TLSConfig

    Params = Mapping[str, Any] | None
    Body = bytes | Iterable[bytes] | None

MAX_API_VERSION = "1.45"
MIN_API_VERSION = "1.24"
USER_AGENT = "dockwright-cli/0.1.0"
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def quote(value: str, safe: bytes = b"") -> str:
    """Percent-encode like url.QueryEscape/PathEscape (without importing urllib)."""
    ok = _SAFE | frozenset(safe)
    return "".join(chr(b) if b in ok else f"%{b:02X}" for b in value.encode("utf-8"))


def encode_query(params: Params) -> str:
    """`?a=1&b=x`; None values dropped, bools as 1/0, lists repeated, dicts as JSON."""
    if not params:
        return ""
    parts: list[str] = []
    for key, value in params.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is None:
                continue
            if isinstance(item, bool):
                item = "1" if item else "0"
            elif isinstance(item, dict):
                item = _compact_json(item)
            parts.append(f"{quote(key)}={quote(str(item))}")
    return "?" + "&".join(parts) if parts else ""


def _compact_json(obj: Any) -> str:
    import json

    return json.dumps(obj, separators=(",", ":"))


def version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in v.split("."))
    except ValueError:
        return (0,)


def negotiate(server: str | None, client_max: str = MAX_API_VERSION) -> str:
    """The API version to speak: the server's when older than ours, else ours (docker's rule)."""
    if not server:
        return MIN_API_VERSION
    return server if version_tuple(server) < version_tuple(client_max) else client_max


def _too_new(resp: Response) -> bool:
    """docker's answer to a newer client: 400 "client version X is too new"."""
    if resp.status != 400:
        return False
    mentions = (resp.head.get("content-length") or "0") != "0"
    return mentions and "too new" in resp.peek_text()


class Response:
    """A response whose body is read lazily; `read()`/`json()` return the connection for reuse."""

    def __init__(self, client: Client, bs: http.BufferedSocket, head: http.Head, method: str):
        self.client, self.bs, self.head, self.method = client, bs, head, method
        self._body = http.iter_body(bs, head, method)
        self._done = False
        self._peeked: bytes | None = None

    @property
    def status(self) -> int:
        return self.head.status

    def iter_chunks(self) -> Iterator[bytes]:
        """Body chunks as they arrive; the connection is released at the end."""
        if self._peeked is not None:
            yield self._peeked
            self._peeked = b""
        yield from self._body
        self._finish()

    def peek_text(self) -> str:
        """Read the whole body now (kept for `read`/`json`), as text; for small error bodies."""
        if self._peeked is None:
            self._peeked = b"".join(self._body)
        return self._peeked.decode("utf-8", "replace")

    def read(self) -> bytes:
        return b"".join(self.iter_chunks())

    def json(self) -> Any:
        data = self.read()
        return loads(data) if data.strip() else None

    def iter_lines(self) -> Iterator[bytes]:
        """Newline-delimited records (JSON progress, events, stats streams)."""
        pending = b""
        for chunk in self.iter_chunks():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            yield from (line for line in lines if line.strip())
        if pending.strip():
            yield pending

    def iter_json(self) -> Iterator[Any]:
        for line in self.iter_lines():
            yield loads(line)

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self.client._release(self.bs, http.reusable(self.head, self.method))

    def close(self) -> None:
        """Abandon the body: the connection is closed, never reused half-read."""
        if not self._done:
            self._done = True
            self.client._release(self.bs, False)


class Hijacked:
    """The raw duplex stream after `101 UPGRADED` (or 200 + raw stream from old daemons)."""

    def __init__(self, sock: socket.socket, pending: bytes) -> None:
        self.sock = sock
        self._pending = pending

    def recv(self, n: int = http.READ_SIZE) -> bytes:
        if self._pending:
            data, self._pending = self._pending[:n], self._pending[n:]
            return data
        return self.sock.recv(n)

    def has_pending(self) -> bool:
        """Bytes readable without waiting (ours, or decrypted ones held inside a TLS socket)."""
        pending = getattr(self.sock, "pending", None)
        return bool(self._pending) or (pending is not None and pending() > 0)

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_write(self) -> None:
        try:
            self.sock.shutdown(1)  # SHUT_WR
        except OSError:
            pass

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()


class Client:
    """Talks to one daemon. `api_version` None means negotiate via `/_ping` on first use."""

    def __init__(
        self,
        host: str | None = None,
        api_version: str | None = None,
        timeout: float | None = None,
        tls: TLSConfig | None = None,
    ) -> None:
        self.endpoint: Endpoint = parse_host(host or default_host(), tls is not None)
        self.api_version = api_version or os.environ.get("DOCKER_API_VERSION") or None
        self.timeout = timeout
        self.tls = tls
        self._idle: http.BufferedSocket | None = None

    # -- connections --------------------------------------------------------------------------

    def _open(self) -> http.BufferedSocket:
        if self._idle is not None:
            bs, self._idle = self._idle, None
            return bs
        try:
            return http.BufferedSocket(connect(self.endpoint, self.timeout, self.tls))
        except OSError as exc:
            raise DaemonUnreachable(self.endpoint.url, str(exc)) from exc

    def _release(self, bs: http.BufferedSocket, reusable: bool) -> None:
        if reusable and self._idle is None and not bs.buf:
            self._idle = bs
        else:
            bs.sock.close()

    def close(self) -> None:
        if self._idle is not None:
            self._idle.sock.close()
            self._idle = None

    # -- requests -----------------------------------------------------------------------------

    def version(self) -> str:
        """The negotiated API version (pings the daemon once)."""
        if self.api_version is None:
            head = self.ping()
            self.api_version = negotiate(head.get("api-version"))
        return self.api_version

    def ping(self) -> http.Head:
        resp = self.send("GET", "/_ping", versioned=False)
        resp.read()
        return resp.head

    def url(self, path: str, params: Params = None, versioned: bool = True) -> str:
        prefix = f"/v{self.version()}" if versioned else ""
        return prefix + path + encode_query(params)

    def send(
        self,
        method: str,
        path: str,
        params: Params = None,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        versioned: bool = True,
    ) -> Response:
        """One request; returns the response whatever its status (see `request`).

        Before the version is known, a request with a replayable body goes out optimistically
        at our newest version instead of pinging first (one round trip less per command);
        a daemon that finds it too new answers 400, and we negotiate and resend.
        """
        if versioned and self.api_version is None and isinstance(body, bytes | None):
            resp = self._send_at(MAX_API_VERSION, method, path, params, body, headers)
            if not _too_new(resp):
                # the version the daemon says it speaks; none (dockerd's 404 for a path it does
                # not know, before any version check) leaves it to be negotiated later
                server = resp.head.get("api-version")
                self.api_version = negotiate(server) if server else None
                return resp
            resp.read()
        return self._send_at(None, method, path, params, body, headers, versioned)

    def _send_at(
        self,
        version: str | None,
        method: str,
        path: str,
        params: Params = None,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        versioned: bool = True,
    ) -> Response:
        if version is not None:
            target = f"/v{version}{path}{encode_query(params)}"
        else:
            target = self.url(path, params, versioned)
        all_headers = {"Host": "docker", "User-Agent": USER_AGENT, **(headers or {})}
        fresh = self._idle is None
        bs = self._open()
        try:
            http.send_request(bs, method, target, all_headers, body)
            head = http.read_head(bs)
        except (OSError, http.ProtocolError):
            bs.sock.close()
            if fresh or not isinstance(body, bytes | None):
                raise
            # a kept-alive connection the daemon had closed: once more on a fresh one
            return self._send_at(version, method, path, params, body, headers, versioned)
        return Response(self, bs, head, method)

    def request(
        self,
        method: str,
        path: str,
        params: Params = None,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Like `send`, but a status >= 400 raises `APIError` with the daemon's message."""
        resp = self.send(method, path, params, body, headers)
        if resp.status >= 400:
            raise APIError(resp.status, error_message(resp.read(), resp.status, resp.head.reason))
        return resp

    def get(self, path: str, params: Params = None) -> Any:
        return self.request("GET", path, params).json()

    def post(self, path: str, params: Params = None, json_body: Any = None) -> Any:
        """POST with an optional JSON body; returns the decoded JSON answer (or None)."""
        if json_body is None:
            return self.request("POST", path, params).json()
        import json

        data = json.dumps(json_body).encode()
        headers = {"Content-Type": "application/json"}
        return self.request("POST", path, params, data, headers).json()

    def delete(self, path: str, params: Params = None) -> Any:
        return self.request("DELETE", path, params).json()

    def hijack(
        self, path: str, params: Params = None, json_body: Any = None
    ) -> tuple[Hijacked, http.Head]:
        """POST asking to upgrade the connection to a raw stream (attach, exec start)."""
        headers = {"Connection": "Upgrade", "Upgrade": "tcp"}
        body: bytes | None = None
        if json_body is not None:
            import json

            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        resp = self.send("POST", path, params, body, headers)
        if resp.status >= 400:
            raise APIError(resp.status, error_message(resp.read(), resp.status, resp.head.reason))
        self._idle = None if self._idle is resp.bs else self._idle
        return Hijacked(resp.bs.sock, resp.bs.take_buffer()), resp.head
