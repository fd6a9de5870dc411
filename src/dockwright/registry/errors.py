"""The spec's error codes, each mapped to its HTTP status in one table.

Handlers and stores raise `RegistryError(code, message, detail)`; the server turns it into
``{"errors": [{"code", "message", "detail"}]}`` with the status from `STATUS`. A few cases
(416 for an out-of-order chunk, 413 for a huge manifest) override the table's status.
"""

from __future__ import annotations

import json
from typing import Any

from dockwright.errors import DockwrightError

STATUS: dict[str, int] = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 400,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 405,
    "TOOMANYREQUESTS": 429,
    "RANGE_INVALID": 416,
}


class RegistryError(DockwrightError):
    """An error with a spec code; `status` defaults to the code's entry in `STATUS`."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: Any = None,
        *,
        status: int | None = None,
        extra: list[tuple[str, Any]] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail
        self.status = status if status is not None else STATUS[code]
        self.extra = extra or []  # more (code, detail) pairs reported in the same body
        self.headers = headers or []  # response headers, e.g. an auth challenge

    def body(self) -> bytes:
        """The spec's JSON error body."""
        errors = [_entry(self.code, self.message, self.detail)]
        errors += [_entry(code, _MESSAGES.get(code, ""), d) for code, d in self.extra]
        return json.dumps({"errors": errors}).encode()


_MESSAGES = {
    "MANIFEST_BLOB_UNKNOWN": "manifest references a manifest or blob unknown to registry",
}


def _entry(code: str, message: str, detail: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        entry["detail"] = detail
    return entry


__all__ = ["STATUS", "RegistryError"]
