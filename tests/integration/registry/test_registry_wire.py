"""The registry over real sockets: large blobs, bad input, crashes, auth and TLS."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time

import bcrypt
import pytest
from ocilayout import make_layout
from registry_proc import skopeo, start_registry

pytestmark = pytest.mark.integration


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def raw(port: int, request: bytes, *, close: bool = True) -> bytes:
    """Send raw bytes, then read the reply until the server closes (or 2 s pass)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(request)
        if close:
            s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except TimeoutError:
            pass
        return out


def test_large_blob_streams_and_ranges(registry):
    data = os.urandom(8 << 20)
    d = sha(data)
    status, headers, _ = registry.request("POST", f"/v2/big/blobs/uploads/?digest={d}", data)
    assert status == 201
    status, headers, body = registry.request("GET", f"/v2/big/blobs/{d}")
    assert status == 200 and body == data and headers["Docker-Content-Digest"] == d
    status, headers, body = registry.request(
        "GET", f"/v2/big/blobs/{d}", headers={"Range": "bytes=1000000-1000009"}
    )
    assert status == 206 and body == data[1000000:1000010]


def test_keep_alive_serves_several_requests(registry):
    reply = raw(registry.port, b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
    assert reply.count(b"HTTP/1.1 200 OK") == 3
    assert reply.count(b"Docker-Distribution-API-Version: registry/2.0") == 3


def test_path_traversal_is_rejected(registry):
    for target in [
        b"/v2/../../etc/passwd/manifests/x",
        b"/v2/a/%2e%2e/%2e%2e/blobs/uploads/",
        b"/v2/a/../../tags/list",
    ]:
        reply = raw(registry.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 400") or reply.startswith(b"HTTP/1.1 404"), reply
    assert not (registry.root.parent / "etc").exists()


def test_truncated_upload_never_becomes_a_blob(registry):
    data = b"z" * 100_000
    d = sha(data)
    head = (
        f"POST /v2/t/blobs/uploads/?digest={d} HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    raw(registry.port, head + data[:5000])  # the client gives up mid-body
    status, _, _ = registry.request("HEAD", f"/v2/t/blobs/{d}")
    assert status == 404
    assert not (registry.root / "blobs" / "sha256" / d.split(":")[1]).exists()
    # the same upload, complete, still works afterwards
    assert registry.request("POST", f"/v2/t/blobs/uploads/?digest={d}", data)[0] == 201


def test_huge_manifest_is_refused(registry):
    status, _, body = registry.request(
        "PUT",
        "/v2/m/manifests/big",
        b"{" + b" " * (5 << 20) + b"}",
        {"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert status == 413 and json.loads(body)["errors"][0]["code"] == "SIZE_INVALID"


def test_killed_server_leaves_no_visible_partial_data(workdir):
    reg = start_registry(workdir / "root")
    data = b"q" * 200_000
    d = sha(data)
    try:
        with socket.create_connection(("127.0.0.1", reg.port)) as s:
            s.sendall(
                f"POST /v2/k/blobs/uploads/?digest={d} HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data[:100_000]
            )
            time.sleep(0.3)
            reg.stop(signal.SIGKILL)
    finally:
        reg.stop()
    blobs = workdir / "root" / "blobs"
    assert [p for p in blobs.rglob("*") if p.is_file()] == []
    again = start_registry(workdir / "root")
    try:
        assert again.request("HEAD", f"/v2/k/blobs/{d}")[0] == 404
        assert again.request("POST", f"/v2/k/blobs/uploads/?digest={d}", data)[0] == 201
        assert again.request("GET", f"/v2/k/blobs/{d}")[2] == data
    finally:
        assert again.stop() == 0


def test_htpasswd_basic_auth_with_skopeo(workdir):
    htpasswd = workdir / "htpasswd"
    htpasswd.write_text("alice:" + bcrypt.hashpw(b"s3cret", bcrypt.gensalt(5)).decode() + "\n")
    reg = start_registry(workdir / "root", "--auth", f"htpasswd:{htpasswd}")
    try:
        status, headers, body = reg.request("GET", "/v2/")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
        assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"
        layout = workdir / "img"
        make_layout(layout, {"f": b"data"})
        ref = f"docker://{reg.host}/secure/app:v1"
        denied = skopeo(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            "alice:wrong",
            f"oci:{layout}:latest",
            ref,
            check=False,
        )
        assert denied.returncode != 0
        skopeo(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            "alice:s3cret",
            f"oci:{layout}:latest",
            ref,
        )
        tags = skopeo(
            "list-tags",
            "--tls-verify=false",
            "--creds",
            "alice:s3cret",
            f"docker://{reg.host}/secure/app",
        )
        assert json.loads(tags.stdout)["Tags"] == ["v1"]
    finally:
        assert reg.stop() == 0


def test_tls_with_skopeo(workdir):
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    reg = start_registry(workdir / "root", "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        layout = workdir / "img"
        make_layout(layout, {"f": os.urandom(300_000)})
        ref = f"docker://{reg.host}/tls/app:v1"
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest", ref)
        skopeo("copy", "--src-tls-verify=false", ref, f"oci:{workdir / 'back'}:v1")
        assert sorted(p.name for p in (workdir / "back/blobs/sha256").iterdir()) == sorted(
            p.name for p in (layout / "blobs/sha256").iterdir()
        )
    finally:
        assert reg.stop() == 0


def test_expect_100_continue(registry):
    data = b"continued body"
    d = sha(data)
    with socket.create_connection(("127.0.0.1", registry.port), timeout=5) as s:
        s.sendall(
            f"POST /v2/e/blobs/uploads/?digest={d} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {len(data)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        assert s.recv(4096).startswith(b"HTTP/1.1 100")
        s.sendall(data)
        assert s.recv(4096).startswith(b"HTTP/1.1 201")
    # refused before the body: the server answers at once and closes instead of waiting
    reply = raw(
        registry.port,
        b"PATCH /v2/e/blobs/uploads/" + b"0" * 32 + b" HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
        close=False,
    )
    assert reply.startswith(b"HTTP/1.1 404") and b"BLOB_UPLOAD_UNKNOWN" in reply


def test_bearer_tokens_with_skopeo(workdir):
    htpasswd = workdir / "htpasswd"
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(5)).decode()
    htpasswd.write_text(f"alice:{hashed}\nbob:{hashed}\n")
    acl = workdir / "acl"
    acl.write_text("alice * pull,push,delete\nbob * pull\nanonymous public/* pull\n")
    reg = start_registry(workdir / "root", "--auth", f"token:{htpasswd}", "--acl", str(acl))
    try:
        status, headers, _ = reg.request("GET", "/v2/public/app/tags/list")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer realm=")
        layout = workdir / "img"
        make_layout(layout, {"f": b"token data"})
        ref = f"docker://{reg.host}/public/app"
        skopeo(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            "alice:pw",
            f"oci:{layout}:latest",
            f"{ref}:v1",
        )
        denied = skopeo(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            "bob:pw",
            f"oci:{layout}:latest",
            f"{ref}:v2",
            check=False,
        )
        assert denied.returncode != 0
        tags = skopeo("list-tags", "--tls-verify=false", ref)  # anonymous pull of public/*
        assert json.loads(tags.stdout)["Tags"] == ["v1"]
        private = skopeo(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            "alice:pw",
            f"oci:{layout}:latest",
            f"docker://{reg.host}/private/app:v1",
        )
        assert private.returncode == 0
        anon = skopeo(
            "list-tags", "--tls-verify=false", f"docker://{reg.host}/private/app", check=False
        )
        assert anon.returncode != 0
    finally:
        assert reg.stop() == 0


def test_docker_style_streamed_patch(registry):
    """docker push streams a layer in one PATCH with chunked encoding and no Content-Range."""
    data = os.urandom(3 << 20)
    status, headers, _ = registry.request("POST", "/v2/d/blobs/uploads/")
    assert status == 202
    loc = headers["Location"]
    conn = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=30)
    try:
        parts = (data[i : i + 100_000] for i in range(0, len(data), 100_000))
        conn.request(
            "PATCH", loc, body=parts, encode_chunked=True, headers={"Transfer-Encoding": "chunked"}
        )
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 202 and resp.getheader("Range") == f"0-{len(data) - 1}"
        conn.request("PUT", f"{resp.getheader('Location')}?digest={sha(data)}", body=b"")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201
    finally:
        conn.close()
    assert registry.request("GET", f"/v2/d/blobs/{sha(data)}")[2] == data
