"""The one table from error classes to HTTP status codes, and the `{"message": ...}` body.

Services raise `dockwright.errors` classes and know nothing of HTTP; this is the only place
that decides which status each class becomes. Anything not in the table is a 500.
"""

from __future__ import annotations

from dockwright.api.http import Response, json_response
from dockwright.api.router import MethodNotAllowed
from dockwright.errors import (
    Conflict,
    DockwrightError,
    Forbidden,
    InvalidParameter,
    NotFound,
    NotImplementedYet,
    NotModified,
    Unauthorized,
    Unavailable,
)

STATUS_BY_ERROR: dict[type, int] = {
    NotFound: 404,
    InvalidParameter: 400,
    Conflict: 409,
    NotModified: 304,
    Unauthorized: 401,
    Forbidden: 403,
    Unavailable: 503,
    NotImplementedYet: 501,
    MethodNotAllowed: 405,
}
INTERNAL = 500


def status_for(exc: BaseException) -> int:
    """The status of `exc`'s nearest class in the table (subclasses inherit), else 500."""
    for cls in type(exc).__mro__:
        status = STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return INTERNAL


def message_for(exc: BaseException) -> str:
    """The text Docker clients print: the error's message, or its class name when it has none."""
    if isinstance(exc, DockwrightError):
        return exc.message
    return str(exc) or type(exc).__name__


def error_response(exc: BaseException) -> Response:
    """The response for `exc`: Docker's JSON error body, or no body at all for 304."""
    status = status_for(exc)
    if status == 304:
        return Response(304)
    headers = {"Allow": ", ".join(exc.allowed)} if isinstance(exc, MethodNotAllowed) else None
    return json_response({"message": message_for(exc)}, status, headers)


def error_status_response(status: int, message: str) -> Response:
    """An error the server itself produces (routing, version checks, bad HTTP)."""
    return json_response({"message": message}, status)
