"""The local terminal: raw mode for `-t`, its size, and SIGWINCH.

`raw_terminal` restores the previous settings on exit, whatever happens inside (the terminal
must never be left raw after the CLI is gone).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def is_tty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def size(fd: int) -> tuple[int, int] | None:
    """(rows, columns) of the terminal on `fd`, None when it is not one."""
    try:
        cols, rows = os.get_terminal_size(fd)
    except OSError:
        return None
    return rows, cols


@contextmanager
def raw_terminal(fd: int, enabled: bool = True) -> Iterator[None]:
    """Put `fd` in raw mode for the block (no-op when disabled or not a terminal)."""
    if not enabled or not is_tty(fd):
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextmanager
def on_resize(callback: Callable[[], None]) -> Iterator[None]:
    """Call `callback` on SIGWINCH for the duration of the block."""

    def handler(signum: int, frame: Any) -> None:
        callback()

    previous = signal.signal(signal.SIGWINCH, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)


# Signals docker's ForwardAllSignals does not proxy: they belong to the CLI process itself.
_NOT_FORWARDED = {"SIGCHLD", "SIGPIPE", "SIGURG", "SIGWINCH", "SIGKILL", "SIGSTOP"}


def forwardable_signals() -> list[signal.Signals]:
    return [s for s in signal.Signals if s.name not in _NOT_FORWARDED]


@contextmanager
def forward_signals(send: Callable[[int], None], enabled: bool = True) -> Iterator[None]:
    """While active, each catchable signal is passed to `send` instead of acting on us."""
    if not enabled:
        yield
        return
    previous: dict[signal.Signals, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        send(signum)

    for sig in forwardable_signals():
        try:
            previous[sig] = signal.signal(sig, handler)
        except (OSError, ValueError):
            continue
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
