"""Registry credentials and authentication challenges. Pure.

Clients send credentials in `X-Registry-Auth`: base64url of a JSON AuthConfig
(`username`, `password`, `serveraddress`, or `identitytoken`/`registrytoken`). A registry asks for
authentication with `WWW-Authenticate: Basic realm="…"` or
`Bearer realm="https://auth/token",service="registry",scope="repository:x:pull"`; for Bearer the
client fetches a token from the realm (with basic credentials when it has them).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from dockwright.errors import InvalidParameter


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    identity_token: str = ""
    registry_token: str = ""

    @property
    def anonymous(self) -> bool:
        return not (self.username or self.identity_token or self.registry_token)

    def basic(self) -> str:
        """The value of a Basic Authorization header."""
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


ANONYMOUS = Credentials()
_URLSAFE = str.maketrans("-_", "+/")


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "basic" | "bearer"
    params: dict[str, str]


def decode_auth_header(value: str | None) -> Credentials:
    """Credentials from an X-Registry-Auth header (anonymous when absent or empty JSON)."""
    if not value or not value.strip():
        return ANONYMOUS
    text = value.strip()
    try:
        padded = text.translate(_URLSAFE) + "=" * (-len(text) % 4)
        raw = base64.b64decode(padded, validate=True)
        doc = json.loads(raw or b"{}")
    except (binascii.Error, ValueError):
        raise InvalidParameter("invalid X-Registry-Auth header: not base64-encoded json") from None
    return credentials_from_json(doc)


def credentials_from_json(doc: object) -> Credentials:
    """An AuthConfig object (`POST /auth` body or a decoded X-Registry-Auth)."""
    if not isinstance(doc, dict):
        return ANONYMOUS
    return Credentials(
        str(doc.get("username") or doc.get("Username") or ""),
        str(doc.get("password") or doc.get("Password") or ""),
        str(doc.get("identitytoken") or doc.get("IdentityToken") or ""),
        str(doc.get("registrytoken") or doc.get("RegistryToken") or ""),
    )


_TOKEN = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*(=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*)))?\s*,?')


def parse_challenges(header: str) -> list[Challenge]:
    """The challenges of one WWW-Authenticate value, in order (RFC 7235 grammar, leniently)."""
    out: list[Challenge] = []
    pos = 0
    while pos < len(header):
        m = _TOKEN.match(header, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        name, assigned, quoted, bare = m.groups()
        if not assigned:
            out.append(Challenge(name.lower(), {}))
        elif out:
            value = quoted if quoted is not None else bare
            out[-1].params[name.lower()] = re.sub(r"\\(.)", r"\1", value)
    return [c for c in out if c.scheme in ("basic", "bearer")]


def token_url(challenge: Challenge, scopes: list[str]) -> str:
    """Where to fetch a bearer token for `scopes` (the realm with service and scope)."""
    realm = challenge.params.get("realm")
    if not realm:
        raise InvalidParameter("registry bearer challenge without realm")
    query: list[tuple[str, str]] = []
    if challenge.params.get("service"):
        query.append(("service", challenge.params["service"]))
    query += [("scope", s) for s in scopes]
    sep = "&" if "?" in realm else "?"
    return realm + (sep + urlencode(query) if query else "")


def scope(repository: str, actions: str) -> str:
    """A token scope: `repository:library/busybox:pull` (actions "pull" or "pull,push")."""
    return f"repository:{repository}:{actions}"


def token_from_response(body: bytes) -> str:
    """The token of a token-server answer (`token`, or the OAuth `access_token`)."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise InvalidParameter("invalid token server answer: not json") from None
    token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
    if not isinstance(token, str) or not token:
        raise InvalidParameter("invalid token server answer: no token")
    return token
