"""htpasswd basic authentication (bcrypt entries, as `htpasswd -B` writes them).

bcrypt is slow on purpose (tens of milliseconds a check), and clients send credentials with
every request, so a verified Authorization header is remembered (by its sha256) until the file
changes; a wrong password is checked every time.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from pathlib import Path

import bcrypt

from dockwright.errors import InvalidParameter

CACHE_MAX = 1024


def parse_htpasswd(text: str) -> dict[str, bytes]:
    """user -> bcrypt hash; InvalidParameter for entries that are not bcrypt."""
    users: dict[str, bytes] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not hashed.startswith(("$2y$", "$2b$", "$2a$")):
            raise InvalidParameter(f"htpasswd line {number}: only bcrypt entries are supported")
        users[user] = hashed.encode()
    return users


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` value, or None."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


class Htpasswd:
    """Checks Authorization headers against an htpasswd file, reloaded when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime = -1.0
        self._users: dict[str, bytes] = {}
        self._verified: dict[bytes, str] = {}
        self._reload()

    def _reload(self) -> None:
        mtime = self.path.stat().st_mtime
        if mtime != self._mtime:
            self._users = parse_htpasswd(self.path.read_text())
            self._verified.clear()
            self._mtime = mtime

    async def authenticate(self, header: str) -> str | None:
        """`user`, with the slow bcrypt check in a worker thread so serving goes on."""
        self._reload()
        key = hashlib.sha256(header.encode()).digest()
        if key in self._verified:
            return self._verified[key]
        return await asyncio.to_thread(self.user, header)

    def user(self, header: str) -> str | None:
        """The authenticated user for an Authorization header, or None (blocking)."""
        self._reload()
        key = hashlib.sha256(header.encode()).digest()
        if key in self._verified:
            return self._verified[key]
        creds = basic_credentials(header)
        if creds is None or creds[0] not in self._users:
            return None
        if not bcrypt.checkpw(creds[1].encode(), self._users[creds[0]]):
            return None
        if len(self._verified) >= CACHE_MAX:
            self._verified.clear()
        self._verified[key] = creds[0]
        return creds[0]


__all__ = ["Htpasswd", "basic_credentials", "parse_htpasswd"]
