"""Who may do what: the access a request needs, an ACL, and the two authenticators.

`required_access` (pure) maps a routed request to the scopes it needs (GET/HEAD pull,
POST/PUT/PATCH push, DELETE delete, a cross-repository mount also pulls its source, the
catalog needs `registry:catalog:*`). `BasicAuth` checks htpasswd credentials on each request;
`TokenAuth` checks bearer tokens and serves the token endpoint (`GET /token`) that issues them
to htpasswd users (or anonymously), limited by the ACL.

ACL file lines: `<user|*|anonymous> <repository glob> <actions>`, e.g. `alice team/* pull,push`
or `* public/* pull`; `*` is any authenticated user, `anonymous` is everyone. Without an ACL,
authenticated users may do everything and anonymous users (with `anonymous_pull`) only pull.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass

from dockwright.errors import InvalidParameter
from dockwright.registry.auth import Htpasswd
from dockwright.registry.errors import RegistryError
from dockwright.registry.http import Request, Response
from dockwright.registry.tokens import SERVICE, Access, grants, issue, parse_scope, verify

ACTIONS = {
    "GET": "pull",
    "HEAD": "pull",
    "POST": "push",
    "PUT": "push",
    "PATCH": "push",
    "DELETE": "delete",
}


def required_access(
    method: str, label: str, params: dict[str, str], query: dict[str, str]
) -> list[Access]:
    """The scopes a request needs; [] for the base endpoint and metrics."""
    if label == "catalog":
        return [Access("registry", "catalog", ("*",))]
    if "name" not in params:
        return []
    action = ACTIONS.get(method, "pull")
    actions = ("pull", "push") if action == "push" else (action,)
    need = [Access("repository", params["name"], actions)]
    if label == "upload" and method == "POST" and query.get("from"):
        need.append(Access("repository", query["from"], ("pull",)))
    return need


@dataclass(frozen=True)
class Rule:
    user: str
    pattern: str
    actions: frozenset[str]


def parse_acl(text: str) -> list[Rule]:
    rules = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#")[0].split()
        if not fields:
            continue
        if len(fields) != 3:
            raise InvalidParameter(
                f"acl line {number}: expected '<user> <repository glob> <actions>'"
            )
        rules.append(Rule(fields[0], fields[1], frozenset(fields[2].split(","))))
    return rules


def allowed(
    rules: list[Rule] | None, user: str | None, want: Access, anonymous_pull: bool
) -> tuple[str, ...]:
    """The subset of `want.actions` that `user` (None: anonymous) may perform."""
    if rules is None:
        if user is not None:
            return want.actions
        return tuple(a for a in want.actions if a == "pull" and anonymous_pull)
    granted: set[str] = set()
    for rule in rules:
        who = rule.user == "anonymous" or (user is not None and rule.user in ("*", user))
        if who and fnmatch.fnmatchcase(want.name, rule.pattern):
            granted |= rule.actions
    return tuple(a for a in want.actions if a in granted or "*" in granted)


BASIC_CHALLENGE = 'Basic realm="dockwright-registry"'


def _unauthorized(challenge: str, need: list[Access]) -> RegistryError:
    detail = [a.scope() for a in need] or None
    return RegistryError(
        "UNAUTHORIZED",
        "authentication required",
        detail,
        headers=[("WWW-Authenticate", challenge)],
    )


class BasicAuth:
    """htpasswd credentials on every request; an ACL limits what each user may do."""

    def __init__(
        self, users: Htpasswd, rules: list[Rule] | None = None, anonymous_pull: bool = False
    ) -> None:
        self.users, self.rules, self.anonymous_pull = users, rules, anonymous_pull

    async def check(self, req: Request, need: list[Access]) -> None:
        header = req.header("authorization")
        user = await self.users.authenticate(header) if header else None
        if header and user is None:
            raise _unauthorized(BASIC_CHALLENGE, need)
        for want in need:
            if allowed(self.rules, user, want, self.anonymous_pull) != want.actions:
                if user is None:
                    raise _unauthorized(BASIC_CHALLENGE, need)
                raise RegistryError("DENIED", f"access to {want.scope()} denied for {user}")
        if user is None and not need:  # the base endpoint tells clients to authenticate
            raise _unauthorized(BASIC_CHALLENGE, need)


class TokenAuth:
    """Bearer tokens from the built-in endpoint; `secret` signs them (keep it per server)."""

    def __init__(
        self,
        users: Htpasswd,
        secret: bytes,
        rules: list[Rule] | None = None,
        anonymous_pull: bool = False,
    ) -> None:
        self.users, self.secret, self.rules = users, secret, rules
        self.anonymous_pull = anonymous_pull

    async def check(self, req: Request, need: list[Access]) -> None:
        header = req.header("authorization")
        claims = None
        if header.lower().startswith("bearer "):
            claims = verify(self.secret, header[7:].strip())
        if claims is not None and all(grants(claims, want) for want in need):
            return
        scheme = req.header("x-forwarded-proto") or req.scheme
        realm = f"{scheme}://{req.header('host', '127.0.0.1')}/token"
        scope = " ".join(a.scope() for a in need)
        challenge = f'Bearer realm="{realm}",service="{SERVICE}"' + (
            f',scope="{scope}"' if scope else ""
        )
        raise _unauthorized(challenge, need)

    async def token(self, req: Request) -> Response:
        """GET /token?service=&scope=...: a token for what the caller may have of the scopes."""
        header = req.header("authorization")
        user = await self.users.authenticate(header) if header else None
        if header and user is None:
            raise _unauthorized(BASIC_CHALLENGE, [])
        granted = []
        for want in parse_scope(req.query.get("scope", "")):
            actions = allowed(self.rules, user, want, self.anonymous_pull)
            if actions:
                granted.append(Access(want.type, want.name, actions))
        token = issue(self.secret, user or "", granted)
        doc = {"token": token, "access_token": token, "expires_in": 300}
        return Response(200, [("Content-Type", "application/json")], json.dumps(doc).encode())


__all__ = ["BasicAuth", "TokenAuth", "allowed", "parse_acl", "required_access"]
