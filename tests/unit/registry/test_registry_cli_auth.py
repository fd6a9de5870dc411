"""CLI argument handling and htpasswd authentication (pure, plus an in-process app)."""

from __future__ import annotations

import base64

import bcrypt
import pytest
from registry_fakes import Client, codes, header

from dockwright.errors import InvalidParameter
from dockwright.registry.access import BasicAuth
from dockwright.registry.app import RegistryApp
from dockwright.registry.auth import Htpasswd, basic_credentials, parse_htpasswd
from dockwright.registry.cli import build_parser, load_args, main, parse_addr
from dockwright.registry.core import Stores
from dockwright.registry.proxy import PullThrough, parse_proxies

pytestmark = pytest.mark.unit


def test_parse_addr():
    assert parse_addr("127.0.0.1:5000") == ("127.0.0.1", 5000)
    assert parse_addr("[::1]:0") == ("::1", 0)
    assert parse_addr(":5000") == ("0.0.0.0", 5000)
    for bad in ["5000", "host:", "host:99999", "host:x"]:
        with pytest.raises(InvalidParameter):
            parse_addr(bad)


def test_serve_arguments():
    args = build_parser().parse_args(
        ["serve", "--root", "/r", "--auth", "htpasswd:/f", "--read-only", "--gc-interval", "60"]
    )
    assert str(args.root) == "/r" and args.auth == "htpasswd:/f" and args.read_only
    assert args.gc_interval == 60.0 and args.addr == "127.0.0.1:5000"


def test_htpasswd_parsing():
    assert parse_htpasswd("# c\n\nbob:$2y$05$abc\n") == {"bob": b"$2y$05$abc"}
    with pytest.raises(InvalidParameter):
        parse_htpasswd("bob:{SHA}xyz")
    assert basic_credentials("Basic " + base64.b64encode(b"a:b:c").decode()) == ("a", "b:c")
    assert basic_credentials("Bearer xyz") is None
    assert basic_credentials("Basic !!!") is None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_auth_required_and_checked(tmp_path):
    path = tmp_path / "htpasswd"
    path.write_text("alice:" + bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode() + "\n")
    client = Client(RegistryApp(Stores.open(tmp_path / "root"), auth=BasicAuth(Htpasswd(path))))
    r = client("GET", "/v2/")
    assert r.status == 401 and codes(r) == ["UNAUTHORIZED"]
    assert header(r, "WWW-Authenticate") == 'Basic realm="dockwright-registry"'
    assert client("GET", "/v2/", authorization=_basic("alice", "nope")).status == 401
    assert client("GET", "/v2/", authorization=_basic("mallory", "pw")).status == 401
    assert client("GET", "/v2/", authorization=_basic("alice", "pw")).status == 200
    assert client("GET", "/v2/", authorization=_basic("alice", "pw")).status == 200  # cached
    assert client("GET", "/metrics").status == 401


def test_proxy_specs_and_matching(tmp_path):
    ups = parse_proxies(["hub=https://registry.example.com/", "local=http://127.0.0.1:5000"])
    assert ups["hub"].url == "https://registry.example.com"
    pt = PullThrough(Stores.open(tmp_path / "r"), ups)
    found = pt.match("hub/library/busybox")
    assert found is not None and found[1] == "library/busybox" and found[0] is ups["hub"]
    assert pt.match("hub") is None and pt.match("other/x") is None
    for bad in ["hub", "Hub=http://x", "a/b=http://x", "hub=ftp://x"]:
        with pytest.raises(InvalidParameter):
            parse_proxies([bad])


def test_proxied_repositories_refuse_writes(tmp_path):
    stores = Stores.open(tmp_path / "r")
    client = Client(RegistryApp(stores, proxy=PullThrough(stores, parse_proxies(["hub=http://x"]))))
    r = client("POST", "/v2/hub/lib/app/blobs/uploads/")
    assert r.status == 405 and codes(r) == ["UNSUPPORTED"]
    assert client("POST", "/v2/lib/app/blobs/uploads/").status == 202  # others are not proxied


def test_config_file_fills_unset_flags(tmp_path, capsys):
    cfg = tmp_path / "registry.toml"
    cfg.write_text(
        'root = "/srv/reg"\naddr = "127.0.0.1:6000"\nread-only = true\n'
        'proxy = ["hub=http://127.0.0.1:1"]\ngc-interval = 30\n'
    )
    args = load_args(["serve", "--config", str(cfg), "--addr", "127.0.0.1:7000"])
    assert str(args.root) == "/srv/reg" and args.read_only and args.gc_interval == 30
    assert args.addr == "127.0.0.1:7000"  # the command line wins
    assert args.proxy == ["hub=http://127.0.0.1:1"]
    cfg.write_text('root = "/r"\nbogus = 1\n')
    with pytest.raises(InvalidParameter):
        load_args(["serve", "--config", str(cfg)])
    assert main(["serve"]) == 1 and "--root is required" in capsys.readouterr().err
