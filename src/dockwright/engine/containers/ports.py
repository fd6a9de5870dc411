"""What the containers service needs from the subsystems it does not own.

engine/wiring.py adapts the image store, the kernel mount code and the runtime driver to these.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from dockwright.runtime.types import ExitStatus, RecoveredState

__all__ = ["ExitStatus"]


class ImagesPort(Protocol):
    def resolve(self, ref: str) -> tuple[str, dict[str, Any]]:
        """(image id, the image's OCI `config` section); NotFound "No such image: ref"."""
        ...

    def display_name(self, image_id: str) -> str:
        """A tag of the image if it has one, else its id (for `ps` when the tag moved)."""
        ...

    def image_size(self, image_id: str) -> int: ...


class RootfsPort(Protocol):
    def prepare(self, image_id: str, cid: str) -> None: ...

    def use_volatile(self, cid: str) -> None:
        """Mount `cid`'s rootfs overlay `volatile` (build steps only: no sync at unmount)."""
        ...

    def mount(self, cid: str) -> Path:
        """Mount the container's overlay (idempotent) and return the merged path."""
        ...

    def merged_dir(self, cid: str) -> Path:
        """Where the overlay is mounted while the container runs (no mount, no check)."""
        ...

    def unmount(self, cid: str) -> None: ...

    def remove(self, cid: str) -> None: ...

    def upper_dir(self, cid: str) -> Path: ...

    def lower_dirs(self, cid: str) -> list[Path]: ...

    def all(self) -> list[str]:
        """Ids of every container that has a rootfs snapshot."""
        ...


class AttachStream(Protocol):
    async def read(self) -> tuple[int, bytes]:
        """Next chunk as (1 stdout | 2 stderr, data); (0, b"") at the end."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None: ...

    async def close(self) -> None: ...


class RuntimePort(Protocol):
    async def create(
        self,
        cid: str,
        bundle: Path,
        spec: dict[str, Any],
        *,
        tty: bool,
        stdin: bool,
        stdin_once: bool,
        log_path: Path | None,
    ) -> int: ...

    async def start(self, cid: str) -> None: ...

    async def kill(self, cid: str, signal: int, all: bool = False) -> None: ...

    async def pause(self, cid: str) -> None: ...

    async def resume(self, cid: str) -> None: ...

    async def delete(self, cid: str, force: bool = False) -> None: ...

    async def state(self, cid: str) -> str | None: ...

    def recover(self, cid: str) -> RecoveredState:
        """What became of the container while no daemon watched it (blocking)."""
        ...

    async def wait_exit(self, cid: str) -> ExitStatus: ...

    async def attach(self, cid: str) -> AttachStream: ...

    async def resize(self, cid: str, height: int, width: int) -> None: ...


LogRecord = tuple[int, float, bytes]  # (stream, unix time, data)


class LogsPort(Protocol):
    def read(
        self,
        path: Path,
        *,
        follow: asyncio.Future[Any] | None,
        tail: int | None,
        since: float,
        until: float,
    ) -> AsyncIterator[LogRecord]:
        """The log's records; with `follow`, new ones too until that future is done."""
        ...


class ExecHandle(AttachStream, Protocol):
    """A process started in a running container by the runtime; its stdio when attached."""

    pid: int

    async def wait(self) -> int: ...

    async def resize(self, height: int, width: int) -> None: ...


class ExecRuntimePort(Protocol):
    async def exec(
        self, cid: str, process: dict[str, Any], *, tty: bool, stdin: bool, detach: bool
    ) -> ExecHandle: ...
