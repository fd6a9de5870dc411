"""docker-py (the `docker` package) against dockwrightd."""

from __future__ import annotations

import socket
import time

import pytest

pytestmark = pytest.mark.integration


def test_run_returns_output(daemon):
    client = daemon.client()
    assert client.containers.run("busybox", ["echo", "hello"], remove=True) == b"hello\n"


def test_create_start_logs_stream_wait_remove(daemon):
    client = daemon.client()
    c = client.containers.create(
        "busybox", ["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.1; done"]
    )
    c.start()
    lines = [chunk for chunk in c.logs(stream=True, follow=True)]
    assert b"".join(lines) == b"line1\nline2\nline3\n"
    assert c.wait()["StatusCode"] == 0
    c.reload()
    assert c.status == "exited"
    c.remove()
    with pytest.raises(Exception, match="404|No such container"):
        client.containers.get(c.id)


def test_exec_run(daemon):
    client = daemon.client()
    c = client.containers.run("busybox", ["sleep", "60"], detach=True)
    try:
        result = client.api.exec_inspect(client.api.exec_create(c.id, ["true"])["Id"])
        assert result["Running"] is False
        code, out = c.exec_run(["sh", "-c", "echo $((2+3)); exit 4"])
        assert (code, out) == (4, b"5\n")
        code, out = c.exec_run("id -u", user="nobody")
        assert (code, out) == (0, b"65534\n")
        code, out = c.exec_run("env", environment={"X": "1"}, workdir="/tmp")
        assert b"X=1" in out
    finally:
        c.remove(force=True)


def test_attach_socket_round_trip(daemon):
    client = daemon.client()
    c = client.containers.create("busybox", ["cat"], stdin_open=True, tty=False)
    c.start()
    try:
        sock = client.api.attach_socket(c.id, params={"stdin": 1, "stdout": 1, "stream": 1})
        raw = sock._sock
        raw.sendall(b"ping\n")
        raw.settimeout(5)
        data = b""
        while b"ping" not in data:
            chunk = raw.recv(4096)
            assert chunk
            data += chunk
        assert data[:8] == b"\x01\x00\x00\x00\x00\x00\x00\x05" and data[8:] == b"ping\n"
        raw.shutdown(socket.SHUT_WR)
        assert c.wait(timeout=10)["StatusCode"] == 0
        sock.close()
    finally:
        c.remove(force=True)


def test_list_and_filters(daemon):
    client = daemon.client()
    c = client.containers.run(
        "busybox", ["sleep", "30"], detach=True, labels={"k": "v"}, name="pylisted"
    )
    try:
        assert [x.name for x in client.containers.list(filters={"label": "k=v"})] == ["pylisted"]
        assert client.containers.get("pylisted").attrs["Config"]["Labels"] == {"k": "v"}
        c.stop(timeout=1)
        assert c.wait(timeout=5)["StatusCode"] == 137
        assert client.containers.list() == [] or all(x.id != c.id for x in client.containers.list())
    finally:
        c.remove(force=True)


def test_wait_next_exit_and_restart(daemon):
    client = daemon.client()
    c = client.containers.run("busybox", ["sh", "-c", "sleep 0.2; exit 2"], detach=True)
    assert c.wait(timeout=10)["StatusCode"] == 2
    c.restart(timeout=1)
    time.sleep(0.1)
    assert c.wait(timeout=10)["StatusCode"] == 2
    c.reload()
    assert c.attrs["State"]["ExitCode"] == 2
    c.remove()


def test_attach_to_created_container_ends_when_it_is_removed(daemon):
    client = daemon.client()
    c = client.containers.create("busybox", ["true"])
    sock = client.api.attach_socket(c.id, params={"stdout": 1, "stream": 1})
    c.remove()
    sock._sock.settimeout(5)
    assert sock._sock.recv(100) == b""
    sock.close()


def test_attach_with_logs_replays_output(daemon):
    # A raw client: docker-py's attach drops bytes that arrive with the 101 head (its
    # http.client buffer swallows them), a client-side race dockerd's callers have too.
    client = daemon.client()
    c = client.containers.run("busybox", ["echo", "earlier"], detach=True)
    assert c.wait(timeout=10)["StatusCode"] == 0
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(str(daemon.socket))
    sock.sendall(
        f"POST /containers/{c.id}/attach?logs=1&stdout=1 HTTP/1.1\r\nHost: x\r\n"
        "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n".encode()
    )
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    assert body == b"\x01\x00\x00\x00\x00\x00\x00\x08earlier\n"
    c.remove()
