"""The JSON progress messages docker prints for pull and push (jsonmessage). Pure.

Each message is a dict: `status`, optional `id` (the layer's short digest), `progressDetail`
({"current", "total"}) and `progress` (the text bar shown when the output is not a terminal).
Errors are `{"errorDetail": {"message": m}, "error": m}`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]
Report = Callable[[Message], None]
BAR_WIDTH = 50
INTERVAL = 0.1  # seconds between two "Downloading"/"Pushing" updates of one layer


def short_id(digest: str) -> str:
    """The 12 hex digits docker shows for a layer."""
    return digest.removeprefix("sha256:")[:12]


def status(text: str, id: str | None = None, detail: bool = True) -> Message:
    msg: Message = {"status": text}
    if id is not None:
        if detail:
            msg["progressDetail"] = {}
        msg["id"] = id
    return msg


def human_size(n: float) -> str:
    """Go's units.HumanSize: 3 significant digits, decimal units (kB, MB, GB)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.3g}{unit}"
        n /= 1000
    return f"{n:.3g}TB"  # pragma: no cover


def bar(current: int, total: int) -> str:
    """The text progress bar: `[==>      ]  1.2MB/3.4MB`."""
    if total <= 0:
        return human_size(current)
    filled = min(BAR_WIDTH, current * BAR_WIDTH // total)
    arrow = "=" * max(filled - 1, 0) + (">" if filled < BAR_WIDTH else "=") if filled else ">"
    return f"[{arrow.ljust(BAR_WIDTH)}] {human_size(current).rjust(8)}/{human_size(total)}"


def moving(text: str, id: str, current: int, total: int) -> Message:
    """A "Downloading"/"Pushing"/"Extracting" update."""
    return {"status": text, "progressDetail": {"current": current, "total": total},
            "progress": bar(current, total), "id": id}  # fmt: skip


def error(message: str) -> Message:
    return {"errorDetail": {"message": message}, "error": message}


class Meter:
    """Counts bytes of one layer and reports at most every INTERVAL seconds (thread-safe)."""

    def __init__(self, report: Report, text: str, id: str, total: int) -> None:
        self.report, self.text, self.id, self.total = report, text, id, total
        self.current = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.current += n
            now = time.monotonic()
            if now - self._last < INTERVAL and self.current < self.total:
                return
            self._last = now
            current = self.current
        self.report(moving(self.text, self.id, current, self.total))
