"""Client-side errors: what the daemon refused, and failing to reach it at all.

DockwrightError
├── APIError            the daemon answered >= 400 with {"message": ...}
└── DaemonUnreachable   nothing listens at the address (docker: "Cannot connect ...")
"""

from __future__ import annotations

from dockwright.errors import DockwrightError


class APIError(DockwrightError):
    """The daemon refused a request; `message` is the daemon's text, unchanged."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def not_found(self) -> bool:
        return self.status == 404

    def __str__(self) -> str:
        return f"Error response from daemon: {self.message}"


class DaemonUnreachable(DockwrightError):
    """No daemon at the address; the text is docker's so scripts matching it keep working."""

    def __init__(self, url: str, cause: str = "") -> None:
        super().__init__(
            f"Cannot connect to the Docker daemon at {url}. Is the docker daemon running?"
        )
        self.cause = cause


def error_message(body: bytes, status: int, reason: str) -> str:
    """The daemon's `{"message": ...}` text, or the raw body, or the status line."""
    from dockwright.client.fastjson import loads

    text = body.decode("utf-8", "replace").strip()
    try:
        obj = loads(text)
    except ValueError:
        return text or f"{status} {reason}".strip()
    if isinstance(obj, dict) and isinstance(obj.get("message"), str):
        return obj["message"]
    return text
