"""The HTTP client against a fake daemon on a unix socket: negotiation, bodies, errors, hijack."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from cli_fake_daemon import FakeRequest, FakeResponse, error, fake_daemon, json_response

from dockwright.client.api import Client, encode_query, negotiate
from dockwright.client.errors import APIError, DaemonUnreachable
from dockwright.client.frames import demux, frame
from dockwright.client.hosts import parse_host

pytestmark = pytest.mark.unit


def test_negotiation_rules() -> None:
    assert negotiate("1.41") == "1.41"
    assert negotiate("1.50") == "1.45"
    assert negotiate(None) == "1.24"


def test_query_encoding() -> None:
    q = encode_query(
        {"all": True, "limit": None, "filters": {"name": {"web": True}}, "x": [1, 2], "s": "a b/é"}
    )
    assert q == "?all=1&filters=%7B%22name%22%3A%7B%22web%22%3Atrue%7D%7D&x=1&x=2&s=a%20b%2F%C3%A9"


def test_parse_host_forms() -> None:
    assert parse_host("unix:///run/x.sock").path == "/run/x.sock"
    assert parse_host("/run/x.sock").scheme == "unix"
    tcp = parse_host("tcp://127.0.0.1:2375")
    assert (tcp.host, tcp.port) == ("127.0.0.1", 2375)
    assert parse_host("localhost").port == 2375
    with pytest.raises(Exception, match="invalid bind address"):
        parse_host("ftp://x")


def test_versioned_paths_and_keep_alive(tmp_path: Path) -> None:
    def handler(req: FakeRequest) -> FakeResponse:
        return json_response({"path": req.path})

    with fake_daemon(tmp_path, handler) as d:
        client = Client(d.url)
        assert client.get("/containers/json") == {"path": "/v1.45/containers/json"}
        assert client.get("/info") == {"path": "/v1.45/info"}
        client.close()
    # no ping: the first request goes out at our version (the daemon accepts it)
    assert [r.path for r in d.requests] == ["/v1.45/containers/json", "/v1.45/info"]
    assert d.connections == 1


def test_older_daemon_version_is_used(tmp_path: Path) -> None:
    def handler(req: FakeRequest) -> FakeResponse:
        return json_response(None)

    with fake_daemon(tmp_path, handler, api_version="1.41") as d:
        client = Client(d.url)
        client.get("/info")
        client.get("/info")
    paths = [r.path for r in d.requests]
    assert paths == ["/v1.45/info", "/_ping", "/v1.41/info", "/v1.41/info"]


def test_a_404_for_an_unknown_path_does_not_fix_the_version(tmp_path: Path) -> None:
    def handler(req: FakeRequest) -> FakeResponse:
        return json_response({"path": req.path})

    with fake_daemon(tmp_path, handler, api_version="1.41", unknown=("/build/context",)) as d:
        client = Client(d.url)
        with pytest.raises(APIError) as found:
            client.post("/build/context", None, {})
        assert found.value.status == 404
        resp = client.request("POST", "/build", None, iter([b"tar"]))  # not replayable
        assert resp.json() == {"path": "/v1.41/build"}
    assert [r.path for r in d.requests] == ["/v1.45/build/context", "/_ping", "/v1.41/build"]


def test_error_message_from_daemon(tmp_path: Path) -> None:
    with (
        fake_daemon(tmp_path, lambda req: error(404, "No such container: web")) as d,
        pytest.raises(APIError) as info,
    ):
        Client(d.url).get("/containers/web/json")
    assert info.value.status == 404
    assert str(info.value) == "Error response from daemon: No such container: web"


def test_chunked_stream_lines(tmp_path: Path) -> None:
    chunks = [b'{"a":1}\n{"a"', b":2}\n", b'{"a":3}']
    with fake_daemon(tmp_path, lambda req: FakeResponse(200, chunks=chunks)) as d:
        resp = Client(d.url).request("GET", "/events")
        assert [m["a"] for m in resp.iter_json()] == [1, 2, 3]


def test_chunked_upload(tmp_path: Path) -> None:
    with fake_daemon(tmp_path, lambda req: json_response(len(req.body))) as d:
        resp = Client(d.url).request("POST", "/images/create", None, iter([b"a" * 70000, b"b"]))
        assert resp.json() == 70001
    assert d.requests[-1].headers["transfer-encoding"] == "chunked"


def test_unreachable(tmp_path: Path) -> None:
    with pytest.raises(DaemonUnreachable) as info:
        Client(f"unix://{tmp_path}/none.sock").get("/info")
    assert str(info.value) == (
        f"Cannot connect to the Docker daemon at unix://{tmp_path}/none.sock. Is the docker daemon running?"
    )


def test_hijacked_attach_is_duplex(tmp_path: Path) -> None:
    """Upgrade to a raw stream, send stdin, half-close, read framed output until EOF."""
    got_stdin: list[bytes] = []

    def attach(sock: socket.socket, pending: bytes) -> None:
        data = pending
        while chunk := sock.recv(1024):
            data += chunk
        got_stdin.append(data)
        sock.sendall(frame(1, b"out:" + data) + frame(2, b"err"))
        sock.close()

    def handler(req: FakeRequest) -> FakeResponse:
        assert req.headers["upgrade"] == "tcp" and req.headers["connection"] == "Upgrade"
        return FakeResponse(hijack=attach)

    with fake_daemon(tmp_path, handler) as d:
        conn, head = Client(d.url).hijack("/containers/web/attach", {"stream": True, "stdin": True})
        assert head.status == 101
        conn.sendall(b"hello")
        conn.close_write()

        def chunks():  # type: ignore[no-untyped-def]
            while data := conn.recv():
                yield data

        frames = list(demux(chunks()))
        conn.close()
    assert got_stdin == [b"hello"]
    assert frames == [(1, b"out:hello"), (2, b"err")]


def test_responses_do_not_block_each_other(tmp_path: Path) -> None:
    """A long-poll response (wait) holds its own connection; other requests still work."""
    release = threading.Event()

    def handler(req: FakeRequest) -> FakeResponse:
        if req.path.endswith("/wait"):
            return FakeResponse(200, chunks=_after(release, b'{"StatusCode":0}'))
        release.set()
        return json_response({})

    with fake_daemon(tmp_path, handler) as d:
        client = Client(d.url)
        waiting = client.request("POST", "/containers/web/wait")
        client.post("/containers/web/start")
        assert waiting.json() == {"StatusCode": 0}


def _after(event: threading.Event, data: bytes):  # type: ignore[no-untyped-def]
    event.wait(5)
    yield data
