"""A function-as-fake-daemon: an HTTP/1.1 server (h11) on a temp unix socket, in a thread.

The handler gets a `FakeRequest` and returns a `FakeResponse`; a response with `hijack` set is
answered `101 UPGRADED` and the raw socket is handed to that callback (attach/exec tests).
Independent of our client's HTTP code on purpose: h11 checks our framing.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h11


@dataclass
class FakeRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None  # sent chunked, each as it is produced
    hijack: Callable[[socket.socket, bytes], None] | None = None


def json_response(obj: Any, status: int = 200) -> FakeResponse:
    return FakeResponse(status, json.dumps(obj).encode(), {"Content-Type": "application/json"})


def error(status: int, message: str) -> FakeResponse:
    return json_response({"message": message}, status)


Handler = Callable[[FakeRequest], FakeResponse]


def default_ping(handler: Handler, api_version: str = "1.45",
                 unknown: tuple[str, ...] = ()) -> Handler:  # fmt: skip
    """Answer /_ping like dockwrightd and pass the rest to `handler`; paths ending in one of
    `unknown` get dockerd's 404 for a route it lacks, before any version check."""

    def wrapped(req: FakeRequest) -> FakeResponse:
        if req.path.endswith(unknown) and unknown:
            return error(404, "page not found")
        if req.path == "/_ping":
            return FakeResponse(200, b"OK", {"Api-Version": api_version, "OSType": "linux"})
        asked = req.path.split("/")[1].removeprefix("v") if req.path.startswith("/v1.") else ""
        if asked and tuple(map(int, asked.split("."))) > tuple(map(int, api_version.split("."))):
            message = (
                f"client version {asked} is too new. Maximum supported API version is {api_version}"
            )
            return error(400, message)
        return handler(req)

    return wrapped


def api_requests(requests: list[FakeRequest]) -> list[FakeRequest]:
    """The requests other than pings."""
    return [r for r in requests if r.path != "/_ping"]


class FakeDaemon:
    def __init__(self, path: Path, handler: Handler, api_version: str = "1.45",
                 unknown: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.api_version = api_version
        self.path = path
        self.handler = default_ping(handler, api_version, unknown)
        self.connections = 0
        self.requests: list[FakeRequest] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(16)
        self.threads: list[threading.Thread] = []
        self.stopped = False

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def serve(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self._serve_conn, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve_conn(self, conn: socket.socket) -> None:
        h = h11.Connection(h11.SERVER)
        try:
            while self._one(conn, h):
                h.start_next_cycle()
        except (OSError, h11.ProtocolError):
            pass
        finally:
            conn.close()

    def _next(self, conn: socket.socket, h: h11.Connection) -> Any:
        while True:
            event = h.next_event()
            if event is h11.NEED_DATA:
                h.receive_data(conn.recv(65536))
                continue
            return event

    def _one(self, conn: socket.socket, h: h11.Connection) -> bool:
        event = self._next(conn, h)
        if not isinstance(event, h11.Request):
            return False
        body = b""
        while True:
            ev = self._next(conn, h)
            if isinstance(ev, h11.Data):
                body += ev.data
            elif isinstance(ev, h11.EndOfMessage):
                break
        headers = {k.decode().lower(): v.decode() for k, v in event.headers}
        req = FakeRequest(event.method.decode(), event.target.decode(), headers, body)
        self.requests.append(req)
        resp = self.handler(req)
        if resp.hijack is not None:
            conn.sendall(
                b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
            )
            resp.hijack(conn, h.trailing_data[0])
            return False
        self._respond(conn, h, resp)
        return h.our_state is h11.DONE and h.their_state is h11.DONE

    def _respond(self, conn: socket.socket, h: h11.Connection, resp: FakeResponse) -> None:
        headers = list(resp.headers.items())
        if resp.chunks is None:
            headers.append(("Content-Length", str(len(resp.body))))
        else:
            headers.append(("Transfer-Encoding", "chunked"))
        conn.sendall(h.send(h11.Response(status_code=resp.status, headers=headers)))
        for chunk in resp.chunks if resp.chunks is not None else [resp.body]:
            if chunk:
                conn.sendall(h.send(h11.Data(data=chunk)))
        conn.sendall(h.send(h11.EndOfMessage()))

    def close(self) -> None:
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.sock.close()


@contextmanager
def fake_daemon(
    tmp_path: Path, handler: Handler, api_version: str = "1.45", unknown: tuple[str, ...] = ()
) -> Iterator[FakeDaemon]:
    """Serve `handler` on `tmp_path/d.sock` for the duration of the block."""
    daemon = FakeDaemon(tmp_path / "d.sock", handler, api_version, unknown)
    thread = threading.Thread(target=daemon.serve, daemon=True)
    thread.start()
    try:
        yield daemon
    finally:
        daemon.close()
        thread.join(timeout=5)
