"""Contexts (store, precedence) and TLS option rules, on a temp config dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwright.cli.contexts import DEFAULT, Store, context_tls, parse_docker_option, resolve
from dockwright.client.tls import tls_from_options
from dockwright.errors import Conflict, InvalidParameter, NotFound

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(str(tmp_path))
    s.create("remote", "tcp://10.0.0.1:2376", "far away")
    return s


def test_create_list_use_remove(store: Store) -> None:
    assert store.names() == ["remote"]
    assert store.current() == DEFAULT
    store.set_current("remote")
    assert store.current() == "remote"
    with pytest.raises(Conflict):
        store.create("remote", "unix:///x")
    store.remove("remote")
    assert store.names() == [] and store.current() == DEFAULT
    with pytest.raises(NotFound):
        store.get("remote")


def test_names_are_validated(store: Store) -> None:
    with pytest.raises(InvalidParameter, match="is invalid"):
        store.create("-bad", "unix:///x")
    with pytest.raises(InvalidParameter, match="reserved"):
        store.create("default", "unix:///x")


def test_precedence(store: Store) -> None:
    store.set_current("remote")
    assert resolve(None, "", store, {}) == ("tcp://10.0.0.1:2376", "remote")
    assert resolve(None, "", store, {"DOCKER_HOST": "unix:///env"}) == (None, DEFAULT)
    assert resolve("unix:///flag", "", store, {}) == ("unix:///flag", DEFAULT)
    assert resolve(None, "default", store, {}) == (None, DEFAULT)
    assert resolve(None, "remote", store, {"DOCKER_HOST": "unix:///env"})[1] == "remote"
    with pytest.raises(InvalidParameter, match="conflicting options"):
        resolve("unix:///flag", "remote", store, {})


def test_context_tls_files(store: Store, tmp_path: Path) -> None:
    for name in ("ca", "cert", "key"):
        (tmp_path / f"{name}.pem").write_text(name)
    tls = {k: str(tmp_path / f"{k}.pem") for k in ("ca", "cert", "key")}
    store.create("secure", "tcp://h:2376", tls=tls)
    cfg = context_tls(store, "secure")
    assert cfg is not None and cfg.verify and cfg.cert.endswith("cert.pem")
    assert context_tls(store, "remote") is None


def test_docker_option() -> None:
    assert parse_docker_option("host=tcp://h:1,skip-tls-verify=true") == {
        "host": "tcp://h:1",
        "skip-tls-verify": "true",
    }
    with pytest.raises(InvalidParameter, match="unrecognized config key: hots"):
        parse_docker_option("hots=x")


def test_tls_options(tmp_path: Path) -> None:
    assert tls_from_options(False, False, env={}) is None
    (tmp_path / "ca.pem").write_text("x")
    cfg = tls_from_options(
        False, False, env={"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path)}
    )
    assert cfg is not None and cfg.verify and cfg.ca == str(tmp_path / "ca.pem") and cfg.cert == ""
    plain = tls_from_options(True, False, env={"DOCKER_CERT_PATH": str(tmp_path)})
    assert plain is not None and not plain.verify
