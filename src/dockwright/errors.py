"""Error classes shared by every layer; the API maps each class to one HTTP status.

    DockwrightError
    ├── NotFound            no such container/image/exec            → 404
    ├── InvalidParameter    bad input from the caller               → 400
    ├── Conflict            name in use, running container removed  → 409
    ├── NotModified         already started/stopped                 → 304
    ├── Unauthorized                                                → 401
    ├── Forbidden                                                   → 403
    ├── Unavailable         a needed service is not there           → 503
    ├── NotImplementedYet   a feature this engine does not have     → 501
    └── SystemError_        the machine failed us                   → 500

Messages are lowercase, without a trailing period, and name the input.
"""

from __future__ import annotations


class DockwrightError(Exception):
    """Base of every error the engine raises on purpose."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


class NotFound(DockwrightError):
    pass


class InvalidParameter(DockwrightError):
    pass


class Conflict(DockwrightError):
    pass


class NotModified(DockwrightError):
    pass


class Unauthorized(DockwrightError):
    pass


class Forbidden(DockwrightError):
    pass


class Unavailable(DockwrightError):
    pass


class NotImplementedYet(DockwrightError):
    pass


class SystemError_(DockwrightError):
    """The operating system or a helper binary failed; maps to 500."""


__all__ = [
    "Conflict",
    "DockwrightError",
    "Forbidden",
    "InvalidParameter",
    "NotFound",
    "NotImplementedYet",
    "NotModified",
    "SystemError_",
    "Unauthorized",
    "Unavailable",
]
