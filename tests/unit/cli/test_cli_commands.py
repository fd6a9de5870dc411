"""Commands end to end against a scripted fake daemon: output text, exit codes, request order."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest
from cli_fake_daemon import (
    FakeDaemon,
    FakeRequest,
    FakeResponse,
    api_requests,
    error,
    fake_daemon,
    json_response,
)

from dockwright.cli.main import main
from dockwright.client.frames import frame

pytestmark = pytest.mark.unit

CID = "4d0b3c1a2e3f" + "ab" * 26


class FakeEngine:
    """Just enough daemon for run/ps/logs/exec: one container whose process prints and exits."""

    def __init__(self, exit_code: int = 3, start_error: str = "") -> None:
        self.exit_code = exit_code
        self.start_error = start_error
        self.started = threading.Event()
        self.log: list[str] = []
        self.create_body: dict[str, object] = {}

    def __call__(self, req: FakeRequest) -> FakeResponse:
        path = req.path.removeprefix("/v1.45")
        self.log.append(f"{req.method} {path}")
        if path == "/containers/create":
            self.create_body = req.json()
            return json_response({"Id": CID, "Warnings": []}, 201)
        if path.endswith("/attach"):
            return FakeResponse(hijack=self._attach)
        if path.endswith("/wait"):
            return FakeResponse(200, chunks=self._wait())
        if path.endswith("/start"):
            if self.start_error:
                return error(400, self.start_error)
            self.started.set()
            return FakeResponse(204)
        return self.other(req, path)

    def other(self, req: FakeRequest, path: str) -> FakeResponse:
        return error(404, f"page not found: {path}")

    def _attach(self, sock: socket.socket, pending: bytes) -> None:
        if self.started.wait(5):
            sock.sendall(frame(1, b"hello out\n") + frame(2, b"hello err\n"))
        sock.close()

    def _wait(self):  # type: ignore[no-untyped-def]
        self.started.wait(5)
        yield json.dumps({"StatusCode": self.exit_code, "Error": None}).encode()


def run_main(d: FakeDaemon, *argv: str) -> int:
    return main(["-H", d.url, *argv])


def test_run_streams_output_and_exits_with_the_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = FakeEngine(exit_code=3)
    with fake_daemon(tmp_path, engine) as d:
        status = run_main(d, "run", "--name", "web", "busybox", "sh", "-c", "x")
    out, err = capsys.readouterr()
    assert status == 3
    assert (out, err) == ("hello out\n", "hello err\n")
    order = [entry for entry in engine.log if not entry.startswith("GET /_ping")]
    assert order[0] == "POST /containers/create"
    assert order.index(f"POST /containers/{CID}/attach") < order.index(
        f"POST /containers/{CID}/start"
    )
    assert order.index(f"POST /containers/{CID}/wait") < order.index(
        f"POST /containers/{CID}/start"
    )
    assert engine.create_body["Cmd"] == ["sh", "-c", "x"]


def test_run_rm_waits_for_removal(tmp_path: Path) -> None:
    engine = FakeEngine(exit_code=0)
    with fake_daemon(tmp_path, engine) as d:
        assert run_main(d, "run", "--rm", "busybox", "true") == 0
    wait = next(r for r in d.requests if r.path.endswith("/wait"))
    assert wait.q("condition") == "removed"
    assert engine.create_body["HostConfig"]["AutoRemove"] is True  # type: ignore[index]


def test_run_detached_prints_the_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = FakeEngine()
    with fake_daemon(tmp_path, engine) as d:
        assert run_main(d, "run", "-d", "busybox", "sleep", "9") == 0
    assert capsys.readouterr().out == CID + "\n"
    assert not any(entry.endswith("/attach") for entry in engine.log)


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ('exec: "nope": executable file not found in $PATH: unknown', 127),
        ("exec /bin/x: permission denied", 126),
        ("cgroup setup failed", 125),
    ],
)
def test_run_start_failure_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], message: str, status: int
) -> None:
    with fake_daemon(tmp_path, FakeEngine(start_error=message)) as d:
        assert run_main(d, "run", "busybox", "nope") == status
    err = capsys.readouterr().err
    assert err == (
        f"dockwright: Error response from daemon: {message}\n\nRun 'dockwright run --help' for more information\n"
    )


def test_run_create_refused_is_125(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class Refuse(FakeEngine):
        def __call__(self, req: FakeRequest) -> FakeResponse:
            return error(409, 'Conflict. The container name "/web" is already in use')

    with fake_daemon(tmp_path, Refuse()) as d:
        assert run_main(d, "run", "--name", "web", "busybox") == 125
    assert "is already in use" in capsys.readouterr().err


def test_ps_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    created = int(time.time()) - 3 * 3600
    listing = [
        {
            "Id": CID,
            "Names": ["/web"],
            "Image": "busybox",
            "Command": "sleep 300",
            "Created": created,
            "Ports": [],
            "State": "running",
            "Status": "Up 3 hours",
        }
    ]
    with fake_daemon(tmp_path, lambda req: json_response(listing)) as d:
        assert run_main(d, "ps", "-a", "--filter", "name=web") == 0
        assert run_main(d, "ps", "-q") == 0
        assert run_main(d, "ps", "--format", "{{.Names}}: {{.Status}}") == 0
    out = capsys.readouterr().out
    assert out == (
        "CONTAINER ID   IMAGE     COMMAND       CREATED       STATUS       PORTS     NAMES\n"
        '4d0b3c1a2e3f   busybox   "sleep 300"   3 hours ago   Up 3 hours             web\n'
        "4d0b3c1a2e3f\n"
        "web: Up 3 hours\n"
    )
    first = api_requests(d.requests)[0]
    assert first.q("all") == "1"
    assert json.loads(first.q("filters") or "") == {"name": {"web": True}}


def test_multi_container_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def handler(req: FakeRequest) -> FakeResponse:
        name = req.path.split("/")[3]
        return FakeResponse(204) if name == "ok" else error(404, f"No such container: {name}")

    with fake_daemon(tmp_path, handler) as d:
        assert run_main(d, "rm", "-f", "nope", "ok") == 1
        assert run_main(d, "start", "nope", "ok") == 1
    out, err = capsys.readouterr()
    assert out == "ok\nok\n"
    assert err == (
        "Error response from daemon: No such container: nope\n"
        "Error response from daemon: No such container: nope\n"
        "Error: failed to start containers: nope\n"
    )
    assert api_requests(d.requests)[0].q("force") == "1"


def test_inspect_format_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def handler(req: FakeRequest) -> FakeResponse:
        if "/containers/web/" in req.path:
            return json_response({"Id": CID, "State": {"Status": "running", "Pid": 7}})
        return error(404, "No such container: nope")

    with fake_daemon(tmp_path, handler) as d:
        assert (
            run_main(d, "container", "inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "web")
            == 0
        )
        assert run_main(d, "container", "inspect", "web", "nope") == 1
    out, err = capsys.readouterr()
    assert out.startswith('running 7\n[\n    {\n        "Id": ')
    assert err == "Error response from daemon: No such container: nope\n"


def test_logs_demultiplexes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = frame(1, b"a\n") + frame(2, b"b\n") + frame(1, b"c\n")

    def handler(req: FakeRequest) -> FakeResponse:
        headers = {"Content-Type": "application/vnd.docker.multiplexed-stream"}
        return FakeResponse(200, headers=headers, chunks=[body[:5], body[5:]])

    with fake_daemon(tmp_path, handler) as d:
        assert run_main(d, "logs", "--tail", "3", "-t", "web") == 0
    assert capsys.readouterr() == ("a\nc\n", "b\n")
    req = api_requests(d.requests)[0]
    assert (req.q("tail"), req.q("timestamps"), req.q("follow")) == ("3", "1", None)


def test_exec_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def attach(sock: socket.socket, pending: bytes) -> None:
        sock.sendall(frame(1, b"inside\n"))
        sock.close()

    def handler(req: FakeRequest) -> FakeResponse:
        if req.path.endswith("/exec"):
            assert req.json()["Cmd"] == ["sh", "-c", "exit 7"]
            return json_response({"Id": "e1"}, 201)
        if req.path.endswith("/e1/start"):
            return FakeResponse(hijack=attach)
        return json_response({"ExitCode": 7, "Running": False})

    with fake_daemon(tmp_path, handler) as d:
        assert run_main(d, "exec", "web", "sh", "-c", "exit 7") == 7
    assert capsys.readouterr().out == "inside\n"


def test_version_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = {"Version": "0.1.0", "ApiVersion": "1.45", "Components": []}
    with fake_daemon(tmp_path, lambda req: json_response(server)) as d:
        assert run_main(d, "version", "--format", "{{.Server.Version}} {{.Client.ApiVersion}}") == 0
    assert capsys.readouterr().out == "0.1.0 1.45\n"


def test_daemon_unreachable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-H", f"unix://{tmp_path}/none.sock", "ps"]) == 1
    assert "Cannot connect to the Docker daemon" in capsys.readouterr().err


def test_system_prune_reports_each_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = {
        "/v1.45/containers/prune": {"ContainersDeleted": ["c1"], "SpaceReclaimed": 1000},
        "/v1.45/networks/prune": {"NetworksDeleted": ["n1"]},
        "/v1.45/images/prune": {"ImagesDeleted": [{"Untagged": "bb:1"}, {"Deleted": "sha256:x"}]},
        "/v1.45/build/prune": {"CachesDeleted": ["k1", "k2"], "SpaceReclaimed": 500},
    }
    with fake_daemon(tmp_path, lambda req: json_response(reports[req.path])) as d:
        assert run_main(d, "system", "prune", "-f", "-a") == 0
    assert capsys.readouterr().out == (
        "Deleted Containers:\nc1\n\nDeleted Networks:\nn1\n\n"
        "Deleted Images:\nuntagged: bb:1\ndeleted: sha256:x\n\n"
        "Deleted build cache objects:\nk1\nk2\n\nTotal reclaimed space: 1.5kB\n"
    )
    images, cache = api_requests(d.requests)[2:4]
    assert json.loads(images.q("filters") or "") == {"dangling": {"false": True}}
    assert cache.q("all") == "1"
