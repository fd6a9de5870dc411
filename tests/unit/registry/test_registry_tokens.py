"""Bearer tokens, scopes, ACLs, and the token flow through an in-process registry."""

from __future__ import annotations

import base64
import json
import re

import bcrypt
import pytest
from registry_fakes import Client, codes, header

from dockwright.errors import InvalidParameter
from dockwright.registry.access import TokenAuth, allowed, parse_acl, required_access
from dockwright.registry.app import RegistryApp
from dockwright.registry.auth import Htpasswd
from dockwright.registry.core import Stores
from dockwright.registry.tokens import Access, grants, issue, parse_scope, verify

pytestmark = pytest.mark.unit

KEY = b"k" * 32
PULL = Access("repository", "team/app", ("pull",))
PUSH = Access("repository", "team/app", ("pull", "push"))


def test_token_roundtrip_expiry_and_tampering():
    token = issue(KEY, "alice", [PUSH], now=1000)
    claims = verify(KEY, token, now=1001)
    assert claims is not None and claims["sub"] == "alice"
    assert grants(claims, PULL) and grants(claims, PUSH)
    assert not grants(claims, Access("repository", "team/other", ("pull",)))
    assert not grants(claims, Access("repository", "team/app", ("delete",)))
    assert verify(KEY, token, now=1000 + 301) is None
    assert verify(b"other key", token, now=1001) is None
    head, body, sig = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged["access"][0]["actions"].append("delete")
    fbody = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    assert verify(KEY, f"{head}.{fbody}.{sig}", now=1001) is None
    assert verify(KEY, "not.a.token") is None and verify(KEY, "x") is None


def test_parse_scope():
    assert parse_scope("repository:a/b:pull,push registry:catalog:* junk") == [
        Access("repository", "a/b", ("pull", "push")),
        Access("registry", "catalog", ("*",)),
    ]


def test_required_access():
    assert required_access("GET", "manifest", {"name": "a"}, {}) == [
        Access("repository", "a", ("pull",))
    ]
    assert required_access("PATCH", "upload", {"name": "a"}, {})[0].actions == ("pull", "push")
    assert required_access("DELETE", "blob", {"name": "a"}, {})[0].actions == ("delete",)
    mount = required_access("POST", "upload", {"name": "a"}, {"from": "b"})
    assert mount[1] == Access("repository", "b", ("pull",))
    assert required_access("GET", "catalog", {}, {}) == [Access("registry", "catalog", ("*",))]
    assert required_access("GET", "base", {}, {}) == []


def test_acl():
    rules = parse_acl(
        "alice team/* pull,push\n* public/* pull  # everyone logged in\nanonymous open/* pull\n"
    )
    assert allowed(rules, "alice", PUSH, False) == ("pull", "push")
    assert allowed(rules, "bob", PUSH, False) == ()
    assert allowed(rules, "bob", Access("repository", "public/x", ("pull", "push")), False) == (
        "pull",
    )
    assert allowed(rules, None, Access("repository", "public/x", ("pull",)), False) == ()
    assert allowed(rules, None, Access("repository", "open/x", ("pull",)), False) == ("pull",)
    assert allowed(None, None, PUSH, True) == ("pull",)
    assert allowed(None, "anyone", PUSH, False) == ("pull", "push")
    with pytest.raises(InvalidParameter):
        parse_acl("alice team/*")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def token_client(tmp_path) -> Client:
    path = tmp_path / "htpasswd"
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()
    path.write_text(f"alice:{hashed}\nbob:{hashed}\n")
    rules = parse_acl("alice * pull,push,delete\nbob * pull\n")
    auth = TokenAuth(Htpasswd(path), KEY, rules, anonymous_pull=False)
    return Client(RegistryApp(Stores.open(tmp_path / "root"), auth=auth))


def _token(client: Client, challenge: str, who: str | None) -> str:
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    assert params["realm"] == "http://reg.test/token"
    target = f"/token?service={params['service']}&scope={params.get('scope', '')}"
    headers = {"authorization": _basic(who, "pw")} if who else {}
    r = client("GET", target, **headers)
    assert r.status == 200
    return json.loads(r.body)["token"]


def test_token_flow(token_client):
    c = token_client
    r = c("POST", "/v2/team/app/blobs/uploads/", host="reg.test")
    assert r.status == 401 and codes(r) == ["UNAUTHORIZED"]
    challenge = header(r, "WWW-Authenticate")
    assert 'scope="repository:team/app:pull,push"' in challenge
    alice = _token(c, challenge, "alice")
    ok = c("POST", "/v2/team/app/blobs/uploads/", host="reg.test", authorization=f"Bearer {alice}")
    assert ok.status == 202
    bob = _token(c, challenge, "bob")  # bob only gets pull: the push is still refused
    r = c("POST", "/v2/team/app/blobs/uploads/", host="reg.test", authorization=f"Bearer {bob}")
    assert r.status == 401
    anon = _token(c, challenge, None)
    r = c("GET", "/v2/team/app/tags/list", host="reg.test", authorization=f"Bearer {anon}")
    assert r.status == 401  # no anonymous pull configured
    assert c("GET", "/token?scope=x", authorization=_basic("alice", "bad")).status == 401
