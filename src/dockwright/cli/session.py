"""An attached container session: hijack, register the wait, start, pump stdio, exit code.

This is the act half of `run`, `start -a` and `attach`; the order is docker's: attach before
start (no output is lost), wait registered before start (a fast exit is not missed).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from dockwright.cli import term
from dockwright.cli.attach_io import Streams, fd_writer, pump
from dockwright.cli.context import Context
from dockwright.client.api import Client, Hijacked


@dataclass
class AttachSpec:
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool
    detach_keys: str = ""
    logs: bool = False


def hijack_attach(client: Client, cid: str, spec: AttachSpec) -> Hijacked:
    params: dict[str, Any] = {
        "stream": True,
        "stdin": spec.stdin,
        "stdout": spec.stdout,
        "stderr": spec.stderr,
        "logs": True if spec.logs else None,
        "detachKeys": spec.detach_keys or None,
    }
    conn, _ = client.hijack(f"/containers/{cid}/attach", params)
    return conn


@dataclass
class Waiter:
    """`POST /containers/{id}/wait` on its own connection, in a thread; `result()` blocks."""

    client: Client
    cid: str
    condition: str = ""
    registered: threading.Event = field(default_factory=threading.Event)
    _status: int | None = None
    _error: str = ""
    _thread: threading.Thread | None = None

    def start(self, timeout: float = 5.0) -> Waiter:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self.registered.wait(timeout)
        return self

    def _run(self) -> None:
        from dockwright.client.errors import APIError, error_message

        try:
            params = {"condition": self.condition or None}
            resp = self.client.send("POST", f"/containers/{self.cid}/wait", params)
            self.registered.set()
            if resp.status >= 400:
                self._error = error_message(resp.read(), resp.status, resp.head.reason)
                self._status = 125
                return
            body = resp.json() or {}
            err = (body.get("Error") or {}).get("Message")
            self._status, self._error = (125, err) if err else (int(body.get("StatusCode", 0)), "")
        except (OSError, APIError, ValueError) as exc:
            self._status, self._error = 125, str(exc)
        finally:
            self.registered.set()

    def result(self, timeout: float | None = None) -> tuple[int, str]:
        if self._thread is not None:
            self._thread.join(timeout)
        return (125 if self._status is None else self._status), self._error


def resize(client: Client, path: str, fd: int = 0) -> None:
    """Tell the daemon our terminal size (`path` is the container's or exec's resize URL)."""
    from dockwright.client.errors import APIError
    from dockwright.errors import DockwrightError

    dims = term.size(fd)
    if dims is None:
        return
    try:
        client.request("POST", path, {"h": dims[0], "w": dims[1]}).read()
    except (APIError, DockwrightError, OSError):
        pass


def signal_name(signum: int) -> str:
    import signal

    return signal.Signals(signum).name.removeprefix("SIG")


def proxy_signal(client: Client, cid: str, signum: int) -> None:
    from dockwright.errors import DockwrightError

    try:
        client.request("POST", f"/containers/{cid}/kill", {"signal": signal_name(signum)}).read()
    except (DockwrightError, OSError):
        pass


def local_streams(ctx: Context, with_stdin: bool) -> Streams:
    """Writers for our stdout/stderr (fds when real files, the Context's streams in tests)."""
    ctx.stdout.flush()
    out = _writer(ctx.stdout)
    err = _writer(ctx.stderr)
    stdin_fd = _stdin_fd(ctx) if with_stdin else None
    return Streams(out, err, stdin_fd)


def _stdin_fd(ctx: Context) -> int | None:
    try:
        return ctx.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _writer(stream: Any) -> Any:
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is not None:
        stream.flush()
        return fd_writer(fd)

    def write(data: bytes) -> None:
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()

    return write


@dataclass
class Session:
    """Everything `run`/`start -a`/`attach` need while the container's stdio is ours."""

    ctx: Context
    cid: str
    conn: Hijacked
    spec: AttachSpec
    sig_proxy: bool
    keys: bytes

    def interact(self, resize_path: str | None = None) -> bool:
        """Pump until the stream ends; True when the user detached."""
        aux = self.ctx.new_client()
        streams = local_streams(self.ctx, self.spec.stdin)
        raw = self.spec.tty and self.spec.stdin and streams.stdin_fd is not None
        do_resize = self.spec.tty and resize_path is not None and term.is_tty(1)
        with (
            term.raw_terminal(streams.stdin_fd or 0, raw),
            _maybe_resize(aux, resize_path, do_resize),
            term.forward_signals(
                lambda s: proxy_signal(aux, self.cid, s), self.sig_proxy and not self.spec.tty
            ),
        ):
            if do_resize and resize_path is not None:
                resize(aux, resize_path, 1)
            try:
                return pump(self.conn, self.spec.tty, streams, self.keys)
            finally:
                self.conn.close()


def _maybe_resize(client: Client, path: str | None, enabled: bool) -> Any:
    from contextlib import nullcontext

    if not enabled or path is None:
        return nullcontext()
    return term.on_resize(lambda: resize(client, path, 1))


def stdin_is_tty() -> bool:
    return term.is_tty(sys.stdin.fileno()) if hasattr(sys.stdin, "fileno") else False


def is_terminal_fd(fd: int) -> bool:
    return os.isatty(fd)
