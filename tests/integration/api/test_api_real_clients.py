"""The real docker CLI and docker-py against the API server with fake handlers.

These prove the HTTP layer (version negotiation, error bodies, chunked streams, 101 hijack)
speaks what real clients expect, before any engine exists behind it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess

import docker
import pytest

from dockwright.api.http import Request, Response, json_response
from dockwright.api.router import Route
from dockwright.api.routes.system import system_routes
from dockwright.api.streams import frame
from dockwright.errors import NotFound
from dockwright.types.system import ComponentVersion, RuntimeInfo, SystemInfo, VersionInfo

pytestmark = pytest.mark.integration

DOCKER = "/usr/local/bin/docker"


class FakeSystem:
    async def version(self) -> VersionInfo:
        return VersionInfo(
            kernel_version="6.1.0-test",
            extra_components=(ComponentVersion("crun", "1.8.1"),),
        )

    async def info(self) -> SystemInfo:
        return SystemInfo(
            id="FAKE:ID",
            name="fakehost",
            containers=2,
            containers_running=1,
            containers_stopped=1,
            images=5,
            ncpu=3,
            runtimes=(RuntimeInfo("crun", "/usr/bin/crun"),),
        )


CONTAINER = {
    "Id": "c1" * 32,
    "Name": "/fake",
    "State": {"Status": "running", "Running": True, "Paused": False, "Restarting": False},
    "Config": {"Tty": False, "OpenStdin": True, "AttachStdout": True, "AttachStderr": True},
    "HostConfig": {},
}


def fake_container_routes(attached: asyncio.Event) -> list[Route]:
    async def inspect(req: Request) -> Response:
        if req.params["id"] not in ("fake", CONTAINER["Id"]):
            raise NotFound(f"no such container: {req.params['id']}")
        return json_response(CONTAINER)

    async def attach(req: Request) -> None:
        h = await req.hijack("application/vnd.docker.multiplexed-stream")
        if req.query.bool("stdin"):  # echo stdin up to the client's half-close
            data = b""
            while chunk := await h.read():
                data += chunk
            await h.write(frame(1, b"stdin:" + data))
        await h.write(frame(1, b"hello from attach\n"))
        await h.write(frame(2, b"to stderr\n"))
        await h.close()
        attached.set()

    async def wait(req: Request) -> None:
        # Like dockerd: headers first (clients block on them), the result when it is known.
        w = await req.start_stream()
        await attached.wait()
        await w.write(json.dumps({"StatusCode": 3, "Error": None}).encode() + b"\n")

    async def events(req: Request) -> None:
        w = await req.start_stream()
        for action in ("create", "start"):
            await w.write(json.dumps({"Type": "container", "Action": action}).encode() + b"\n")

    return [
        Route("GET", "/containers/{id}/json", inspect),
        Route("POST", "/containers/{id}/attach", attach),
        Route("POST", "/containers/{id}/wait", wait),
        Route("GET", "/events", events),
    ]


@pytest.fixture
def api(serve_api):
    attached = asyncio.Event()
    return serve_api([*system_routes(FakeSystem()), *fake_container_routes(attached)])


def docker_cli(api, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"DOCKER_HOST": api.url, "HOME": str(api.dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [DOCKER, *args],
        env=env,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_docker_cli_version_negotiates_1_45(api):
    out = docker_cli(api, "version", "--format", "{{.Server.APIVersion}}")
    assert (out.returncode, out.stdout.strip()) == (0, "1.45"), out.stderr
    out = docker_cli(api, "version")
    assert out.returncode == 0, out.stderr
    assert "Server: dockwright" in out.stdout
    assert "API version:      1.45 (minimum version 1.24)" in out.stdout
    assert "crun:\n  Version:          1.8.1" in out.stdout


def test_docker_cli_info(api):
    out = docker_cli(api, "info", "--format", "{{.Name}} {{.NCPU}} {{.Containers}} {{.Driver}}")
    assert (out.returncode, out.stdout.strip()) == (0, "fakehost 3 2 overlay2"), out.stderr
    out = docker_cli(api, "info")
    assert out.returncode == 0, out.stderr
    assert "Swarm: inactive" in out.stdout and "Runtimes: crun" in out.stdout


def test_docker_cli_shows_the_error_message(api):
    out = docker_cli(api, "container", "inspect", "nope")
    assert out.returncode == 1
    assert "no such container: nope" in out.stderr


def test_docker_cli_attach_over_a_hijacked_connection(api):
    out = docker_cli(api, "attach", "--no-stdin", "fake")
    assert out.stdout == "hello from attach\n"
    assert out.stderr == "to stderr\n"
    assert out.returncode == 3


def test_docker_cli_attach_sends_stdin_then_half_closes(api):
    out = docker_cli(api, "attach", "fake", stdin="typed line\n")
    assert out.stdout == "stdin:typed line\nhello from attach\n", out.stderr
    assert out.returncode == 3


def test_docker_py_version_info_ping(api):
    client = docker.DockerClient(base_url=api.url, timeout=10)
    try:
        assert client.ping() is True
        version = client.version()
        assert version["ApiVersion"] == "1.45" and version["Components"][0]["Name"] == "Engine"
        assert client.info()["Name"] == "fakehost"
        auto = docker.DockerClient(base_url=api.url, version="auto", timeout=10)
        assert auto.api.api_version == "1.45"
        auto.close()
    finally:
        client.close()


def test_docker_py_errors_streams_and_attach_socket(api):
    client = docker.DockerClient(base_url=api.url, timeout=10)
    try:
        with pytest.raises(docker.errors.NotFound, match="no such container: nope"):
            client.api.inspect_container("nope")
        events = client.api.events(decode=True)
        assert [e["Action"] for e in events] == ["create", "start"]
        sock = client.api.attach_socket("fake", params={"stdin": 1, "stdout": 1, "stream": 1})
        raw = sock._sock if hasattr(sock, "_sock") else sock
        raw.sendall(b"go\n")
        raw.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := raw.recv(65536):
            data += chunk
        assert data == (
            frame(1, b"stdin:go\n") + frame(1, b"hello from attach\n") + frame(2, b"to stderr\n")
        )
        raw.close()
    finally:
        client.close()
