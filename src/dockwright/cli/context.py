"""What every command handler receives: the streams, the program name and a lazy API client."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # imported on every invocation: keep typing/dataclasses out
if TYPE_CHECKING:
    from typing import IO, Any

    from dockwright.client.api import Client
    from dockwright.client.tls import TLSConfig


class CommandExit(Exception):
    """Leave the command with `status`, after printing `message` (if any) to stderr."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Context:
    """Per-invocation state; the client is created on first use (no socket for `--help`)."""

    def __init__(
        self,
        prog: str = "dockwright",
        host: str | None = None,
        stdin: IO[bytes] | None = None,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.prog = prog
        self.host = host
        self.stdin: IO[bytes] = stdin if stdin is not None else sys.stdin.buffer
        self.stdout: IO[str] = stdout if stdout is not None else sys.stdout
        self.stderr: IO[str] = stderr if stderr is not None else sys.stderr
        self.debug = False
        self.tls: TLSConfig | None = None
        self.config_dir = ""
        self.context_flag = ""
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            from dockwright.client.api import Client

            self._client = Client(self.host, tls=self.tls)
        return self._client

    def new_client(self) -> Client:
        """Another connection to the same daemon (waits and signal forwarding run beside the
        main one); it reuses the negotiated API version."""
        from dockwright.client.api import Client

        return Client(self.host, self.client.api_version, tls=self.tls)

    def out(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(text + "\n")

    def download(self, path: str, params: dict[str, Any] | None, output: str | None) -> int:
        """GET a tar stream (export, save) into `output`, or to stdout unless that is a terminal.

        The file is written under a temporary name and renamed, so a failed download never
        leaves a truncated archive behind.
        """
        if not output and self.stdout.isatty():
            raise CommandExit(
                1, "cowardly refusing to save to a terminal. Use the -o flag or redirect"
            )
        resp = self.client.request("GET", path, params)
        if not output:
            for chunk in resp.iter_chunks():
                self.write_bytes(chunk)
            return 0
        tmp = output + ".tmp"
        with open(tmp, "wb") as f:
            for chunk in resp.iter_chunks():
                f.write(chunk)
        os.replace(tmp, output)
        return 0

    def write_bytes(self, data: bytes) -> None:
        """Raw bytes to stdout (container output, tar streams)."""
        self.stdout.flush()
        buf: Any = getattr(self.stdout, "buffer", None)
        if buf is None:
            self.stdout.write(data.decode("utf-8", "replace"))
        else:
            buf.write(data)
            buf.flush()
