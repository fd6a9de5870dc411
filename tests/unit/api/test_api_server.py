"""The real server on a temp unix socket: keep-alive, uploads, streams, hijack, errors, shutdown.

No root and only a unix socket in /tmp, so these run with the unit tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import socket
import ssl
import stat
import subprocess
import threading
import time

import pytest
from api_wire import head_fields, read_all, read_head

from dockwright.api.http import Request, Response, json_response, no_content, text_response
from dockwright.api.router import Route, Router
from dockwright.api.server import ApiServer
from dockwright.api.streams import FrameParser, frame
from dockwright.errors import Conflict, InvalidParameter, NotFound, NotModified, Unavailable

pytestmark = pytest.mark.unit

RAW = "application/vnd.docker.raw-stream"
MUX = "application/vnd.docker.multiplexed-stream"


async def hello(req: Request) -> Response:
    return json_response({"path": req.path, "version": list(req.version), "params": req.params})


async def upload(req: Request) -> Response:
    digest = hashlib.sha256()
    pieces = 0
    async for chunk in req.stream():
        digest.update(chunk)
        pieces += 1
    return json_response({"sha256": digest.hexdigest(), "pieces": pieces})


async def echo_json(req: Request) -> Response:
    return json_response({"got": await req.json(), "q": req.query.get("q")})


def test_keep_alive_serves_several_requests_on_one_connection(serve):
    api = serve([Route("GET", "/containers/{id}/json", hello)])
    conn = api.http()
    seen = []
    for name in ("a", "b", "c"):
        conn.request("GET", f"/v1.41/containers/{name}/json")
        resp = conn.getresponse()
        body = json.loads(resp.read())
        seen.append(conn.sock)
        assert resp.status == 200
        assert body == {
            "path": f"/containers/{name}/json",
            "version": [1, 41],
            "params": {"id": name},
        }
        assert resp.getheader("Api-Version") == "1.45"
        assert resp.getheader("Docker-Experimental") == "false"
        assert resp.getheader("Ostype") == "linux"
        assert resp.getheader("Server") == "Docker/27.0.0-dockwright (linux)"
        assert resp.getheader("Content-Type") == "application/json"
        assert resp.getheader("Date")
    assert seen[0] is seen[1] is seen[2]  # http.client reconnects if the server closed
    conn.close()


def test_pipelined_requests_are_answered_in_order_while_a_handler_runs(serve):
    async def slow(req: Request) -> Response:
        await asyncio.sleep(0.2)
        return text_response("slow")

    api = serve([Route("GET", "/slow", slow), Route("GET", "/fast", hello)])
    sock = api.raw()
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"}\n"):
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    assert data.index(b"slow") < data.index(b'"/fast"')
    sock.close()


def test_chunked_and_sized_uploads_via_stream(serve):
    api = serve([Route("POST", "/upload", upload)])
    pieces = [os.urandom(1000), os.urandom(70000), b"end"]
    whole = b"".join(pieces)
    conn = api.http()
    conn.request("POST", "/upload", body=iter(pieces), encode_chunked=True)
    resp = conn.getresponse()
    got = json.loads(resp.read())
    assert got["sha256"] == hashlib.sha256(whole).hexdigest() and got["pieces"] >= 1
    conn.request("POST", "/upload", body=whole)  # Content-Length on the same connection
    assert json.loads(conn.getresponse().read())["sha256"] == hashlib.sha256(whole).hexdigest()
    conn.close()


def test_expect_100_continue_gets_an_interim_response(serve):
    api = serve([Route("POST", "/upload", upload)])
    sock = api.raw()
    sock.sendall(
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
    )
    head, rest = read_head(sock)
    assert head.startswith(b"HTTP/1.1 100")
    sock.sendall(b"abc")
    head, rest = read_head(sock) if not rest else (rest.partition(b"\r\n\r\n")[0], b"")
    assert head.startswith(b"HTTP/1.1 200")
    sock.close()


def test_json_body_and_bad_json(serve):
    api = serve([Route("POST", "/j", echo_json)])
    conn = api.http()
    conn.request("POST", "/j?q=%2Fx", body=b'{"Cmd": ["echo", "hi"]}')
    resp = conn.getresponse()
    assert json.loads(resp.read()) == {"got": {"Cmd": ["echo", "hi"]}, "q": "/x"}
    conn.request("POST", "/j", body=b"{bad")
    resp = conn.getresponse()
    assert resp.status == 400
    assert json.loads(resp.read())["message"].startswith("invalid json in request body")
    conn.close()


def test_streaming_response_is_chunked_and_flushed_per_write(serve):
    release = asyncio.Event()
    finished = threading.Event()

    async def stream(req: Request) -> None:
        w = await req.start_stream(content_type="application/json")
        await w.write(b'{"n":1}\n')
        await release.wait()  # the client must see chunk 1 before we go on
        await w.write(b'{"n":2}\n')
        finished.set()

    api = serve([Route("GET", "/events", stream)])
    conn = api.http()
    conn.request("GET", "/events")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("Content-Type") == "application/json"
    assert resp.readline() == b'{"n":1}\n'
    assert not finished.is_set()
    api.soon(release.set)
    assert resp.read() == b'{"n":2}\n'
    conn.request("GET", "/events")  # the chunked body ended cleanly: keep-alive continues
    assert conn.getresponse().status == 200
    conn.close()


def test_stream_write_raises_connection_error_once_the_client_has_gone(serve):
    outcome: list[str] = []
    done = threading.Event()

    async def forever(req: Request) -> None:
        w = await req.start_stream()
        try:
            for _ in range(1000):
                await w.write(b"x" * 1024)
                await asyncio.sleep(0.01)
            outcome.append("wrote everything")
        except ConnectionError:
            outcome.append("connection error")
        finally:
            done.set()

    api = serve([Route("GET", "/logs", forever)])
    sock = api.raw()
    sock.sendall(b"GET /logs HTTP/1.1\r\nHost: x\r\n\r\n")
    read_head(sock)
    sock.close()
    assert done.wait(5)
    assert outcome == ["connection error"]


def test_disconnected_completes_when_the_client_closes(serve):
    seen = threading.Event()

    async def wait(req: Request) -> Response:
        await req.disconnected()
        seen.set()
        return no_content()

    api = serve([Route("POST", "/containers/{id}/wait", wait)])
    sock = api.raw()
    sock.sendall(b"POST /containers/x/wait HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    time.sleep(0.1)
    assert not seen.is_set()
    sock.close()
    assert seen.wait(5)


def hijacker(log: list[bytes], content_type: str = MUX):
    async def attach(req: Request) -> None:
        h = await req.hijack(content_type)
        data = b""
        while chunk := await h.read():
            data += chunk
        log.append(data)
        await h.write(frame(1, data.upper()))
        await h.write(frame(2, b"bye"))
        h.close_write()
        await h.close()

    return attach


def test_hijack_with_upgrade_passes_raw_bytes_both_ways(serve):
    log: list[bytes] = []
    api = serve([Route("POST", "/containers/{id}/attach", hijacker(log))])
    sock = api.raw()
    # The bytes after the request arrive in the same packet: they must reach the handler.
    sock.sendall(
        b"POST /v1.45/containers/x/attach?stream=1&stdin=1 HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly-"
    )
    head, rest = read_head(sock)
    status, fields = head_fields(head)
    assert status == "HTTP/1.1 101 UPGRADED"
    assert fields["content-type"] == MUX
    assert fields["connection"] == "Upgrade" and fields["upgrade"] == "tcp"
    assert fields["api-version"] == "1.45"
    assert "content-length" not in fields and "transfer-encoding" not in fields
    sock.sendall(b"late")
    sock.shutdown(socket.SHUT_WR)  # stdin closed; output must still come back
    frames = FrameParser().feed(read_all(sock, rest))
    assert frames == [(1, b"EARLY-LATE"), (2, b"bye")]
    assert log == [b"early-late"]
    sock.close()


def test_hijack_without_upgrade_answers_200_and_a_raw_stream(serve):
    log: list[bytes] = []
    api = serve([Route("POST", "/exec/{id}/start", hijacker(log, RAW))])
    sock = api.raw()
    body = b'{"Detach":false,"Tty":true}'
    sock.sendall(
        b"POST /exec/e/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%sstdin" % (len(body), body)
    )
    head, rest = read_head(sock)
    status, fields = head_fields(head)
    assert status == "HTTP/1.1 200 OK"
    assert fields["content-type"] == RAW
    assert "content-length" not in fields and "transfer-encoding" not in fields
    sock.shutdown(socket.SHUT_WR)
    assert read_all(sock, rest) == frame(1, b"STDIN") + frame(2, b"bye")
    assert log == [b"stdin"]  # the unread JSON body is not part of the raw stream
    sock.close()


def test_hijack_refused_with_an_error_keeps_http(serve):
    async def attach(req: Request) -> None:
        raise NotFound(f"no such container: {req.params['id']}")

    api = serve([Route("POST", "/containers/{id}/attach", attach), Route("GET", "/x", hello)])
    sock = api.raw()
    sock.sendall(
        b"POST /containers/nope/attach HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
        b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    )
    head, rest = read_head(sock)
    assert head.startswith(b"HTTP/1.1 404")
    length = int(head_fields(head)[1]["content-length"])
    while len(rest) < length:
        rest += sock.recv(65536)
    assert json.loads(rest[:length]) == {"message": "no such container: nope"}
    sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection is still usable
    head, _ = read_head(sock)
    assert head.startswith(b"HTTP/1.1 200")
    sock.close()


def raiser(exc: Exception):
    async def handler(req: Request) -> Response:
        raise exc

    return handler


def test_errors_map_to_status_and_docker_json(serve, caplog):
    api = serve(
        [
            Route("GET", "/missing", raiser(NotFound("no such container: web"))),
            Route("GET", "/bad", raiser(InvalidParameter("invalid filter 'x'"))),
            Route("GET", "/conflict", raiser(Conflict("name in use"))),
            Route("GET", "/unavailable", raiser(Unavailable("registry down"))),
            Route("GET", "/boom", raiser(ZeroDivisionError("division by zero"))),
            Route("POST", "/started", raiser(NotModified("container already started"))),
            Route("GET", "/new", hello, min_version=(1, 44)),
        ]
    )
    conn = api.http()

    def get(method: str, path: str) -> tuple[int, bytes, dict[str, str]]:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}

    expected = {
        "/missing": (404, "no such container: web"),
        "/bad": (400, "invalid filter 'x'"),
        "/conflict": (409, "name in use"),
        "/unavailable": (503, "registry down"),
        "/nowhere": (404, "page not found"),
        "/v1.46/nowhere": (404, "page not found"),  # routing comes first, as in dockerd
        "/v1.46/new": (400, "client version 1.46 is too new. Maximum supported API version is 1.45"),
        "/v1.12/new": (400, "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"),
        "/v1.43/new": (400, "client version 1.43 is too old for this endpoint, which needs api version 1.44"),
    }  # fmt: skip
    for path, (status, message) in expected.items():
        got_status, body, headers = get("GET", path)
        assert (got_status, json.loads(body)) == (status, {"message": message}), path
        assert headers["content-type"] == "application/json"
        assert headers["api-version"] == "1.45"
    assert get("GET", "/v1.44/new")[0] == 200

    with caplog.at_level(logging.ERROR, logger="dockwright.api"):
        status, body, _ = get("GET", "/boom")
    assert (status, json.loads(body)) == (500, {"message": "division by zero"})
    assert any(r.exc_info and "ZeroDivisionError" in r.getMessage() for r in caplog.records)

    status, body, headers = get("POST", "/started")
    assert (status, body) == (304, b"")
    assert "content-length" not in headers

    status, body, headers = get("DELETE", "/missing")
    assert (status, json.loads(body)) == (
        405,
        {"message": "method DELETE not allowed for /missing"},
    )
    assert headers["allow"] == "GET"
    conn.close()


def test_ping_get_and_head(serve):
    from dockwright.api.routes.system import ping

    api = serve([Route("GET", "/_ping", ping), Route("HEAD", "/_ping", ping)])
    conn = api.http()
    for path in ("/_ping", "/v1.24/_ping"):
        conn.request("GET", path)
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"OK")
        assert resp.getheader("Content-Type") == "text/plain; charset=utf-8"
        assert resp.getheader("Builder-Version") == "1"
        assert resp.getheader("Cache-Control") == "no-cache, no-store, must-revalidate"
        assert resp.getheader("Pragma") == "no-cache"
        assert resp.getheader("Ostype") == "linux"
        assert resp.getheader("Docker-Experimental") == "false"
    conn.request("HEAD", "/_ping")
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"")
    assert resp.getheader("Api-Version") == "1.45"
    conn.close()


def test_head_of_a_get_route_has_the_length_but_no_body(serve):
    api = serve([Route("GET", "/x", hello)])
    sock = api.raw()
    sock.sendall(b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n")
    head, rest = read_head(sock)
    assert int(head_fields(head)[1]["content-length"]) > 0
    while b"\r\n\r\n" not in rest:
        rest += sock.recv(65536)
    assert rest.startswith(b"HTTP/1.1 200")  # no body bytes between the two responses
    sock.close()


def test_malformed_http_gets_400_and_large_headers_are_accepted(serve):
    api = serve([Route("GET", "/x", hello)])
    sock = api.raw()
    sock.sendall(b"GARBAGE\r\n\r\n")
    head, _ = read_head(sock)
    assert head.startswith(b"HTTP/1.1 400")
    sock.close()
    conn = api.http()
    conn.request("GET", "/x", headers={"X-Registry-Auth": "a" * 200_000})
    assert conn.getresponse().status == 200
    conn.close()


def test_close_cancels_in_flight_handlers_and_removes_the_socket(serve):
    started = threading.Event()
    cancelled = threading.Event()

    async def hang(req: Request) -> Response:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return no_content()

    api = serve([Route("GET", "/hang", hang)])
    assert stat.S_IMODE(os.stat(api.path).st_mode) == 0o660
    sock = api.raw()
    sock.sendall(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
    assert started.wait(5)
    api.call(api.server.close())
    assert cancelled.is_set()
    assert not os.path.exists(api.path)
    assert sock.recv(100) == b""
    sock.close()


def test_stale_socket_file_is_replaced_and_other_files_are_not(serve, tmp_path):
    stale = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(stale)
    s.close()  # a socket file nobody listens on, as a killed daemon leaves it
    api = serve([Route("GET", "/x", hello)], [f"unix://{stale}"])
    api.path = stale
    conn = api.http()
    conn.request("GET", "/x")
    assert conn.getresponse().status == 200
    conn.close()
    api.call(api.server.close())
    assert not os.path.exists(stale)

    regular = tmp_path / "file.sock"
    regular.write_text("keep me")
    with pytest.raises(InvalidParameter, match="not a socket"):
        serve([], [f"unix://{regular}"])
    assert regular.read_text() == "keep me"


def test_tcp_listener_on_loopback(serve):
    api = serve([Route("GET", "/x", hello)], ["tcp://127.0.0.1:0"])
    (address,) = api.server.addresses
    port = int(address.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert read_all(sock).startswith(b"HTTP/1.1 200")
    sock.close()


def test_percent_encoded_paths_are_decoded_before_matching(serve):
    api = serve([Route("GET", "/images/{name:path}/json", hello)])
    conn = api.http()
    conn.request("GET", "/v1.45/images/localhost%3A5000%2Fa%2Fb%3Atag/json?x=1")
    assert json.loads(conn.getresponse().read())["params"] == {"name": "localhost:5000/a/b:tag"}
    conn.close()


def test_tls_on_tcp(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    client_ctx.check_hostname = False

    async def run() -> bytes:
        server = ApiServer(Router([Route("GET", "/x", hello)]), ssl_context=server_ctx)
        await server.start(["tcp://127.0.0.1:0"])
        try:
            port = int(server.addresses[0].rsplit(":", 1)[1])
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx)
            writer.write(b"GET /v1.45/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = await reader.read()
            writer.close()
            return data
        finally:
            await server.close()

    data = asyncio.run(run())
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert data.endswith(b'"params":{}}\n')


def test_big_upload_and_big_stream_go_through_flow_control(serve):
    size = 8 << 20  # well past the read and write high-water marks

    async def big(req: Request) -> None:
        w = await req.start_stream(content_type="application/octet-stream")
        for _ in range(size // 65536):
            await w.write(b"z" * 65536)

    api = serve([Route("POST", "/upload", upload), Route("GET", "/big", big)])
    conn = api.http()
    payload = os.urandom(size)
    conn.request("POST", "/upload", body=payload)
    assert json.loads(conn.getresponse().read())["sha256"] == hashlib.sha256(payload).hexdigest()
    conn.request("GET", "/big")
    resp = conn.getresponse()
    total = 0
    while chunk := resp.read(100_000):
        total += len(chunk)
        time.sleep(0.001)  # a slow reader: the server must wait, not buffer everything
    assert total == size
    conn.close()


def test_unread_bodies_are_drained_small_and_refused_large(serve):
    api = serve([Route("POST", "/ignore", hello), Route("GET", "/x", hello)])
    conn = api.http()
    conn.request("POST", "/ignore", body=b"a" * 10_000)
    assert conn.getresponse().read()
    sock = conn.sock
    conn.request("GET", "/x")
    assert conn.getresponse().status == 200
    assert conn.sock is sock  # the small unread body was discarded, the connection kept
    conn.close()

    raw = api.raw()
    raw.sendall(b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
    data = b""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        raw.sendall(b"a" * (1 << 20))  # the server may hang up on us first
    with contextlib.suppress(ConnectionResetError):
        while chunk := raw.recv(65536):
            data += chunk
    # Answered, then closed (the loop ended) rather than reading 100 MB.
    assert data.startswith(b"HTTP/1.1 200")
    raw.close()


def test_handler_returning_nothing_is_a_500_and_http_1_0_closes(serve):
    async def nothing(req: Request) -> None:
        return None

    api = serve([Route("GET", "/nothing", nothing), Route("GET", "/x", hello)])
    conn = api.http()
    conn.request("GET", "/nothing")
    resp = conn.getresponse()
    assert (resp.status, json.loads(resp.read())) == (500, {"message": "handler gave no response"})
    conn.close()
    sock = api.raw()
    sock.sendall(b"GET /x HTTP/1.0\r\n\r\n")
    assert read_all(sock).startswith(b"HTTP/1.1 200")  # and the server closed the connection
    sock.close()
