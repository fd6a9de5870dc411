"""How build secrets travel from the client to the daemon (a dockwright extension). Pure.

The legacy `POST /build` has no secrets (BuildKit sends them over its session), so the client
puts them in one request header: `X-Dockwright-Build-Secrets: base64(JSON {id: base64(bytes)})`.
A header, not the query, because query strings end up in access logs and proxies' logs.

Size: the daemon's HTTP reader (api/connection.py `MAX_HEAD`) accepts at most 1 MiB for the
request line and all headers together, so the encoded header is capped at `MAX_HEADER_BYTES`
(960 KiB, leaving 64 KiB for the query string and the other headers); base64 twice costs about
16/9, so that is one secret of BuildKit's maximum 500 KB (`MAX_SECRET_BYTES`), or several
smaller ones. The client checks before sending and names the secret that is too large.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from dockwright.errors import InvalidParameter

HEADER = "X-Dockwright-Build-Secrets"
MAX_SECRET_BYTES = 500 * 1024
MAX_HEADER_BYTES = 960 * 1024
_ID = re.compile(r"^[A-Za-z0-9_.+-][A-Za-z0-9_./+-]*$")


def check_id(secret_id: str) -> str:
    """A secret id: letters, digits and `_ . + - /`, not empty."""
    if not _ID.match(secret_id):
        raise InvalidParameter(f"invalid secret id {secret_id!r}")
    return secret_id


def encode(secrets: dict[str, bytes]) -> str:
    """The header value for `secrets`; InvalidParameter when one is too large."""
    for secret_id, data in secrets.items():
        check_id(secret_id)
        if len(data) > MAX_SECRET_BYTES:
            raise InvalidParameter(
                f"secret {secret_id} is too large: {len(data)} bytes (max {MAX_SECRET_BYTES})"
            )
    doc = {k: base64.b64encode(v).decode() for k, v in secrets.items()}
    value = base64.b64encode(json.dumps(doc, sort_keys=True).encode()).decode()
    if len(value) > MAX_HEADER_BYTES:
        raise InvalidParameter(f"build secrets are too large: {len(value)} bytes encoded "
                               f"(max {MAX_HEADER_BYTES})")  # fmt: skip
    return value


def decode(value: str | None) -> dict[str, bytes]:
    """The secrets in a header value (none for None or ""); InvalidParameter on junk."""
    if not value:
        return {}
    if len(value) > MAX_HEADER_BYTES:
        raise InvalidParameter(f"invalid {HEADER}: larger than {MAX_HEADER_BYTES} bytes")
    try:
        doc = json.loads(base64.b64decode(value, validate=True))
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        return {check_id(str(k)): base64.b64decode(v, validate=True) for k, v in doc.items()}
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidParameter(f"invalid {HEADER}: {str(exc).lower()}") from None
