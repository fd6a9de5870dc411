"""Show the daemon's JSON progress stream (import, pull, push, load) the way docker does.

On a terminal, lines carrying an `id` are redrawn in place (cursor movement); elsewhere every
message is printed on its own line. An `error` message ends the stream with `StreamError`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import IO, Any


class StreamError(Exception):
    """The daemon reported an error inside a 200 progress stream."""


def render_message(msg: dict[str, Any]) -> str:
    """One message as a line: `id: status progress` (docker's jsonmessage.Display)."""
    parts = []
    if msg.get("id"):
        parts.append(f"{msg['id']}: ")
    parts.append(str(msg.get("status") or msg.get("stream") or ""))
    if msg.get("progress"):
        parts.append(f" {msg['progress']}")
    return "".join(parts)


def check_error(msg: dict[str, Any]) -> None:
    if msg.get("error") or msg.get("errorDetail"):
        detail = msg.get("errorDetail") or {}
        raise StreamError(str(msg.get("error") or detail.get("message") or "unknown error"))


def display(messages: Iterable[dict[str, Any]], out: IO[str], tty: bool = False) -> list[str]:
    """Print the stream; return the `aux`/status values seen (callers pick ids out of them)."""
    seen: list[str] = []
    lines: dict[str, int] = {}
    for msg in messages:
        check_error(msg)
        if isinstance(msg.get("aux"), dict) and msg["aux"].get("ID"):
            seen.append(str(msg["aux"]["ID"]))
        if msg.get("status"):
            seen.append(str(msg["status"]))
        if "stream" in msg and not msg.get("status"):
            out.write(str(msg["stream"]))
            continue
        _show(msg, out, tty, lines)
    out.flush()
    return seen


def _show(msg: dict[str, Any], out: IO[str], tty: bool, lines: dict[str, int]) -> None:
    text = render_message(msg)
    ident = msg.get("id")
    if not tty or not ident:
        if msg.get("progress") and not tty:
            return  # docker hides progress bars when not on a terminal
        out.write(text + "\n")
        if ident:
            lines[ident] = len(lines)
        return
    if ident not in lines:
        lines[ident] = len(lines)
        out.write(text + "\n")
        return
    up = len(lines) - lines[ident]
    out.write(f"\x1b[{up}A\r\x1b[2K{text}\x1b[{up}B\r")
