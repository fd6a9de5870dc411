"""Deleting what builds leave (their scratch directories) after the response has ended.

`Trash.discard(path)` renames the directory into the trash (one rename, same filesystem) and
deletes it in a background task, so a build's last message is not followed by a wait for
`rmtree`. The tasks belong to the Trash: `close` waits for them at daemon shutdown. A crash
leaves at most the trash, which the next start wipes with the rest of the scratch root.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger("dockwright.builds")
CLOSE_TIMEOUT = 60.0  # seconds shutdown waits for deletions in flight


class Trash:
    """Background deletion of directories; they are first moved into `root` (a directory of
    the scratch root) when there is one."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._tasks: set[asyncio.Task[None]] = set()
        self._count = 0

    def discard(self, path: Path) -> None:
        """Take `path` away now (rename) and delete it in the background."""
        gone = self._move(path)
        if gone is None:
            return
        task = asyncio.ensure_future(asyncio.to_thread(_remove, gone))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _move(self, path: Path) -> Path | None:
        """Where `path` now is (None: it is already gone)."""
        if self.root is None:
            return path
        self._count += 1
        gone = self.root / f"{self._count}-{path.name}"
        try:
            self.root.mkdir(mode=0o700, exist_ok=True)
            os.rename(path, gone)
        except FileNotFoundError:
            return None if not path.exists() else path
        except OSError:
            return path  # cannot move it: delete it where it is
        return gone

    async def close(self) -> None:
        """Wait for the deletions in flight (daemon shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=CLOSE_TIMEOUT)


def _remove(path: Path) -> None:
    try:
        shutil.rmtree(path)
    except OSError as exc:
        log.warning("could not delete build scratch %s: %s", path, exc)
