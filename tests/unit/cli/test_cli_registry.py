"""pull/push/login/logout/save/load and network flags against a fake daemon; credential storage."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cli_fake_daemon import FakeRequest, FakeResponse, api_requests, fake_daemon, json_response

from dockwright.cli import spec
from dockwright.cli.auth import credentials, registry_auth_header, registry_of, server_key
from dockwright.cli.cmd_network import create_body, natural_key
from dockwright.cli.cmd_registry import split_ref
from dockwright.cli.flags import parse
from dockwright.cli.main import main

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path / "cfg"
    monkeypatch.setenv("DOCKWRIGHT_CONFIG", str(cfg))
    return cfg


def test_split_ref() -> None:
    assert split_ref("busybox") == ("busybox", "", "")
    assert split_ref("localhost:5000/app:1.0") == ("localhost:5000/app", "1.0", "")
    assert split_ref("app@sha256:abc") == ("app", "", "sha256:abc")


def test_registry_names() -> None:
    assert registry_of("localhost:5000/app") == "localhost:5000"
    assert registry_of("library/busybox") == "https://index.docker.io/v1/"
    assert server_key("https://reg.example.com/") == "reg.example.com"


def test_pull_shows_progress_and_the_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = [
        b'{"status":"Pulling from library/busybox","id":"latest"}\n',
        b'{"status":"Downloading","progressDetail":{"current":1,"total":2},"progress":"[=> ]","id":"abc"}\n',
        b'{"status":"Status: Downloaded newer image for busybox:latest"}\n',
    ]
    with fake_daemon(tmp_path, lambda req: FakeResponse(200, chunks=stream)) as d:
        assert main(["-H", d.url, "pull", "busybox"]) == 0
    assert capsys.readouterr().out == (
        "Using default tag: latest\nlatest: Pulling from library/busybox\n"
        "Status: Downloaded newer image for busybox:latest\ndocker.io/library/busybox:latest\n"
    )
    req = api_requests(d.requests)[0]
    assert (req.q("fromImage"), req.q("tag")) == ("docker.io/library/busybox", "latest")
    assert json.loads(base64.urlsafe_b64decode(req.headers["x-registry-auth"])) == {}


def test_pull_error_in_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stream = [b'{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n']
    with fake_daemon(tmp_path, lambda req: FakeResponse(200, chunks=stream)) as d:
        assert main(["-H", d.url, "pull", "-q", "localhost:5000/app:2"]) == 1
    assert capsys.readouterr().err == "manifest unknown\n"


def test_login_stores_credentials_used_by_push(
    tmp_path: Path, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(req: FakeRequest) -> FakeResponse:
        if req.path.endswith("/auth"):
            return json_response({"Status": "Login Succeeded"})
        return FakeResponse(200, chunks=[b'{"status":"Pushed","id":"1.0"}\n'])

    with fake_daemon(tmp_path, handler) as d:
        assert main(["-H", d.url, "login", "-u", "me", "-p", "pw", "localhost:5000"]) == 0
        assert main(["-H", d.url, "push", "localhost:5000/app:1.0"]) == 0
        assert main(["-H", d.url, "logout", "localhost:5000"]) == 0
    out, err = capsys.readouterr()
    assert out == "Login Succeeded\n1.0: Pushed\nRemoving login credentials for localhost:5000\n"
    assert "insecure" in err
    push = api_requests(d.requests)[1]
    assert push.path == "/v1.45/images/localhost:5000/app/push" and push.q("tag") == "1.0"
    auth = json.loads(base64.urlsafe_b64decode(push.headers["x-registry-auth"]))
    assert auth == {"username": "me", "password": "pw", "serveraddress": "localhost:5000"}
    assert credentials(str(config_dir), "localhost:5000") is None
    assert registry_auth_header(str(config_dir), "x")["X-Registry-Auth"]


def test_save_and_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def handler(req: FakeRequest) -> FakeResponse:
        if req.path.endswith("/images/get"):
            return FakeResponse(200, b"TARBYTES")
        return FakeResponse(200, chunks=[b'{"stream":"Loaded image: ' + req.body + b'\\n"}\n'])

    archive = tmp_path / "img.tar"
    with fake_daemon(tmp_path, handler) as d:
        assert main(["-H", d.url, "save", "-o", str(archive), "busybox", "bb:1"]) == 0
        assert main(["-H", d.url, "load", "-i", str(archive)]) == 0
    assert archive.read_bytes() == b"TARBYTES"
    assert capsys.readouterr().out == "Loaded image: TARBYTES\n"
    assert api_requests(d.requests)[0].query["names"] == ["busybox", "bb:1"]


def test_network_create_body() -> None:
    cmd = spec.COMMANDS["network create"]
    p = parse(
        cmd,
        ["--subnet", "10.1.0.0/24", "--gateway", "10.1.0.1", "-o", "mtu=1400", "--internal", "n1"],
    )
    body = create_body(p)
    assert body["Name"] == "n1" and body["Driver"] == "bridge" and body["Internal"] is True
    assert body["IPAM"]["Config"] == [{"Subnet": "10.1.0.0/24", "Gateway": "10.1.0.1"}]
    assert body["Options"] == {"mtu": "1400"}


def test_natural_sort() -> None:
    names = ["net10", "net2", "bridge", "net1"]
    assert sorted(names, key=natural_key) == ["bridge", "net1", "net2", "net10"]
