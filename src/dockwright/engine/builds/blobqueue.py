"""Layer blobs written into the content store behind a build instead of in its steps.

A step's commit needs its layer's diff_id (the image id depends on it), not the blob on disk:
the content store's fsync of a 16 MiB layer takes ~60 ms, and a step's next step waits for it.
So a commit spools the tar (image/fromdir.py `stage_dir_spooled`) and hands the rest here:
one thread per build puts the blobs into the content store in commit order and records them;
the build waits for all of them before it names its image (`drain`), and on any end for the
ones under way (`close`), so nothing is written after the build. A layer whose blob is not
recorded yet is still complete: save and push tar a layer again when its blob is missing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Work = Callable[[], object]


class BlobQueue:
    """Blocking work (`submit`, from any thread) run in order in one thread of its own."""

    def __init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="build-blobs")
        self._futures: list[concurrent.futures.Future[object]] = []
        self._lock = threading.Lock()

    def submit(self, work: Work) -> None:
        with self._lock:
            self._futures.append(self._pool.submit(work))

    def _all(self) -> list[concurrent.futures.Future[object]]:
        with self._lock:
            return list(self._futures)

    async def drain(self) -> None:
        """Wait for everything submitted so far; the first failure is raised. Work is never
        cancelled: a cancelled wait leaves it to `close`."""
        for future in self._all():
            await asyncio.shield(asyncio.wrap_future(future))

    async def close(self) -> None:
        """Wait for all the work (failures logged, not raised); no more work after."""
        pending = [asyncio.wrap_future(f) for f in self._all()]
        for result in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(result, BaseException):
                log.warning("build layer blob not written: %s", result)
        self._pool.shutdown(wait=False)
