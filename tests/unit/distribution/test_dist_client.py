"""The registry client against a fake bearer-token registry on loopback (a handler as server)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dockwright.distribution.auth import Credentials
from dockwright.distribution.client import RegistryClient, RegistryError
from dockwright.distribution.endpoint import Endpoint

pytestmark = pytest.mark.unit

GOOD = "Basic " + base64.b64encode(b"alice:pw").decode()
BLOB = b"layer bytes"


class FakeRegistry(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        authz = self.headers.get("Authorization")
        self.seen.append((self.path, authz))
        host = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path.startswith("/token"):
            ok = authz == GOOD and "scope=repository%3Aa%2Fb%3Apull" in self.path
            return self._send(200, b'{"token": "T"}') if ok else self._send(401)
        if self.path.startswith("/storage/"):
            return self._send(200, BLOB)
        if self.path.startswith("/broken"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(BLOB) * 10))
            self.end_headers()
            self.wfile.write(BLOB)
            self.close_connection = True
            return None
        if authz != "Bearer T":
            challenge = f'Bearer realm="{host}/token",service="fake",scope="repository:a/b:pull"'
            body = b'{"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}'
            return self._send(401, body, {"WWW-Authenticate": challenge})
        if self.path == "/v2/a/b/manifests/v1":
            return self._send(200, b"{}", {"Content-Type": "application/x-test; charset=utf-8",
                                            "Docker-Content-Digest": "sha256:x"})  # fmt: skip
        if self.path.startswith("/v2/a/b/blobs/"):
            return self._send(307, b"", {"Location": f"{host}/storage/blob"})
        return self._send(404, b'{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "nope"}]}')


@pytest.fixture
def fake() -> Iterator[str]:
    FakeRegistry.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_bearer_challenge_token_and_redirect_without_credentials(fake: str) -> None:
    client = RegistryClient(Endpoint(fake, "fake"), "a/b", Credentials("alice", "pw"))
    body, media, digest = client.get_manifest("v1")
    assert (body, media, digest) == (b"{}", "application/x-test", "sha256:x")
    assert client.open_blob("sha256:" + "0" * 64).read() == BLOB
    storage = [authz for path, authz in FakeRegistry.seen if path.startswith("/storage/")]
    assert storage == [None]  # the token never follows a redirect
    tokens = [path for path, _ in FakeRegistry.seen if path.startswith("/token")]
    assert len(tokens) == 1  # cached for the second request


def test_bad_credentials_and_registry_errors(fake: str) -> None:
    client = RegistryClient(Endpoint(fake, "fake"), "a/b", Credentials("alice", "wrong"))
    with pytest.raises(RegistryError) as info:
        client.get_manifest("v1")
    assert info.value.status == 401
    good = RegistryClient(Endpoint(fake, "fake"), "a/b", Credentials("alice", "pw"))
    with pytest.raises(RegistryError) as info:
        good.get_manifest("missing")
    assert info.value.codes == ["MANIFEST_UNKNOWN"]
    assert info.value.message == "manifest unknown: nope"


def test_unreachable_registry_is_oserror() -> None:
    client = RegistryClient(Endpoint("http://127.0.0.1:9", "x"), "a/b")
    with pytest.raises(OSError, match="cannot reach"):
        client.get_manifest("v1")


def test_interrupted_body_is_a_connection_error(fake: str) -> None:
    from dockwright.distribution.client import raw_request

    reply = raw_request("GET", f"{fake}/broken")
    with pytest.raises(ConnectionError, match="download interrupted"):
        b"".join(reply.chunks(4))
