"""Run a blocking transfer in a worker thread and hand its progress messages to async code.

The transfer gets a `report` callback and a cancel event. The async side iterates messages as
they come; when it stops early (the client went away) the event is set and the iterator waits
for the thread to clean up before it finishes, so nothing is left running.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from dockwright.distribution import progress as pg

T = TypeVar("T")
Transfer = Callable[[pg.Report, threading.Event], T]


class Outcome:
    """Where the relay leaves the transfer's result once the messages are exhausted."""

    def __init__(self) -> None:
        self.value: Any = None


async def relay(transfer: Transfer[T], outcome: Outcome) -> AsyncIterator[pg.Message]:
    """Yield the transfer's messages; then `outcome.value` is its result (errors re-raised)."""
    loop = asyncio.get_running_loop()
    q: asyncio.Queue[pg.Message | None] = asyncio.Queue()
    cancel = threading.Event()

    def report(msg: pg.Message) -> None:
        loop.call_soon_threadsafe(q.put_nowait, msg)

    def run() -> T:
        try:
            return transfer(report, cancel)
        finally:
            loop.call_soon_threadsafe(q.put_nowait, None)

    task = asyncio.ensure_future(asyncio.to_thread(run))
    try:
        while (msg := await q.get()) is not None:
            yield msg
        outcome.value = await task
    finally:
        if not task.done():
            cancel.set()
            await asyncio.wait([task])
            if not task.cancelled():
                task.exception()
