"""Bad input gets Docker's statuses and messages, and leaves nothing behind."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def _post(daemon, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    status, raw = daemon.request("POST", path, data, {"Content-Type": "application/json"})
    return status, (json.loads(raw) if raw.strip() else None)


def test_invalid_json_is_400(daemon):
    status, raw = daemon.request(
        "POST", "/containers/create", b"{nope", {"Content-Type": "application/json"}
    )
    assert status == 400 and "message" in json.loads(raw)


def test_unknown_things_are_404(daemon):
    assert daemon.request("GET", "/containers/nosuch/json")[0] == 404
    status, body = _post(daemon, "/containers/create", {"Image": "nosuchimage", "Cmd": ["true"]})
    assert status == 404 and "No such image" in body["message"]
    assert _post(daemon, "/containers/nosuch/start")[0] == 404


def test_conflicts_and_not_modified(daemon):
    status, body = _post(
        daemon, "/containers/create?name=dup", {"Image": "busybox", "Cmd": ["sleep", "30"]}
    )
    assert status == 201
    cid = body["Id"]
    assert (
        _post(daemon, "/containers/create?name=dup", {"Image": "busybox", "Cmd": ["true"]})[0]
        == 409
    )
    assert _post(daemon, f"/containers/{cid}/start")[0] == 204
    assert _post(daemon, f"/containers/{cid}/start")[0] == 304
    status, raw = daemon.request("DELETE", f"/containers/{cid}")
    assert status == 409 and b"force remove" in raw
    assert daemon.request("DELETE", f"/containers/{cid}?force=1")[0] == 204
    assert _post(daemon, f"/containers/{cid}/stop")[0] == 404


def test_bad_fields_are_400_and_create_nothing(daemon):
    before = daemon.request("GET", "/containers/json?all=1")[1]
    cases = [
        {"Image": "busybox", "Cmd": "true", "HostConfig": {"Binds": ["relative:/x"]}},
        {
            "Image": "busybox",
            "Cmd": ["true"],
            "HostConfig": {"RestartPolicy": {"Name": "sometimes"}},
        },
        {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Memory": 10}},
        {
            "Image": "busybox",
            "Cmd": ["true"],
            "HostConfig": {"Mounts": [{"Type": "bind", "Target": "/x"}]},
        },
        {"Image": "busybox", "Tty": "yes"},
    ]
    for body in cases:
        status, reply = _post(daemon, "/containers/create", body)
        assert status == 400, (body, reply)
    assert _post(daemon, "/containers/create?name=a%20b", {"Image": "busybox"})[0] == 400
    assert daemon.request("GET", "/containers/json?all=1")[1] == before


def test_missing_bind_source_of_mounts_fails_start_cleanly(daemon):
    body = {
        "Image": "busybox",
        "Cmd": ["true"],
        "HostConfig": {"Mounts": [{"Type": "bind", "Source": "/nonexistent/dw", "Target": "/x"}]},
    }
    status, reply = _post(daemon, "/containers/create", body)
    assert status == 201
    status, err = _post(daemon, f"/containers/{reply['Id']}/start")
    assert status == 400 and "bind source path does not exist" in err["message"]
    assert daemon.request("DELETE", f"/containers/{reply['Id']}")[0] == 204


def test_api_version_prefixes(daemon):
    assert daemon.request("GET", "/v1.24/version")[0] == 200
    assert daemon.request("GET", "/v1.99/version")[0] == 400
    assert daemon.request("GET", "/v1.12/version")[0] == 400


def test_networking_config_of_the_docker_cli(daemon):
    body = {
        "Image": "busybox",
        "Cmd": ["true"],
        "HostConfig": {"NetworkMode": "default"},
        "NetworkingConfig": {"EndpointsConfig": {"default": {}}},
    }
    status, reply = _post(daemon, "/containers/create", body)
    assert status == 201, reply
    assert daemon.request("DELETE", f"/containers/{reply['Id']}")[0] == 204
    body["NetworkingConfig"] = {"EndpointsConfig": {"nosuchnet": {}}}
    status, reply = _post(daemon, "/containers/create", body)
    assert status == 400 and "nosuchnet" in reply["message"]
