"""Bearer tokens: HS256 JWTs carrying per-repository scopes, and the scope grammar (pure).

A scope is `repository:<name>:<action>[,<action>...]` (actions pull, push, delete, or `*`) or
`registry:catalog:*`; a token's `access` claim lists what it grants, as in Docker's token spec.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from typing import Any

ISSUER = "dockwright-registry"
SERVICE = "dockwright-registry"
TTL = 300


@dataclass(frozen=True)
class Access:
    """One resource and the actions on it: ("repository", "team/app", ("pull", "push"))."""

    type: str
    name: str
    actions: tuple[str, ...]

    def scope(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scope(text: str) -> list[Access]:
    """Access entries from a space-separated `scope` query value; bad entries are dropped."""
    out = []
    for item in text.split():
        kind, _, rest = item.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind in ("repository", "registry") and name and actions:
            out.append(Access(kind, name, tuple(a for a in actions.split(",") if a)))
    return out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: bytes, subject: str, access: list[Access], now: float | None = None) -> str:
    """A signed token for `subject` granting `access` for TTL seconds."""
    now = time.time() if now is None else now
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "aud": SERVICE,
        "iat": int(now),
        "nbf": int(now) - 1,
        "exp": int(now) + TTL,
        "jti": os.urandom(8).hex(),
        "access": [{"type": a.type, "name": a.name, "actions": list(a.actions)} for a in access],
    }
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(sig)}"


def verify(secret: bytes, token: str, now: float | None = None) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token for this service; None otherwise."""
    try:
        head, body, sig = token.split(".")
        expected = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(sig)):
            return None
        if json.loads(_unb64(head)).get("alg") != "HS256":
            return None
        claims = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    now = time.time() if now is None else now
    ok = claims.get("aud") == SERVICE and claims.get("nbf", 0) <= now < claims.get("exp", 0)
    return claims if ok and isinstance(claims, dict) else None


def grants(claims: dict[str, Any], need: Access) -> bool:
    """Whether a token's claims cover every action of `need`."""
    for entry in claims.get("access") or []:
        if entry.get("type") == need.type and entry.get("name") == need.name:
            have = set(entry.get("actions") or [])
            if "*" in have or set(need.actions) <= have:
                return True
    return False


__all__ = ["SERVICE", "Access", "grants", "issue", "parse_scope", "verify"]
