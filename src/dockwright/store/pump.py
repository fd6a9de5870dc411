"""Bridges between async byte sources and blocking consumers (hashing, tar extraction).

`consume_in_thread` runs a blocking consumer in a worker thread and feeds it chunks from an async
iterator through a bounded buffer, so an upload of any size never sits in memory and the event
loop never waits on disk. `ChunkReader` turns an iterator of chunks into the `read(n)` file
interface that tarfile and the decompressors want.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from contextlib import suppress
from typing import TypeVar

T = TypeVar("T")

DEPTH = 8  # chunks buffered between the event loop and the worker thread


class _End:
    """Marks the end of the source."""


class Aborted(Exception):
    """The producing side was cancelled; the consumer stops and cleans up."""


def _chunk_iter(
    q: queue.Queue[bytes | _End | BaseException], release: Callable[[], None]
) -> Iterator[bytes]:
    """The consumer's view of the queue: chunks until the end, errors re-raised in the thread."""
    while True:
        item = q.get()
        if isinstance(item, _End):
            return
        if isinstance(item, BaseException):
            raise item
        release()
        yield item


async def _produce(
    chunks: AsyncIterable[bytes],
    q: queue.Queue[bytes | _End | BaseException],
    slots: asyncio.Semaphore,
) -> None:
    """Move chunks from the async source into the queue, waiting for a free slot each time."""
    try:
        async for chunk in chunks:
            await slots.acquire()
            q.put_nowait(chunk)
    except asyncio.CancelledError:
        q.put_nowait(Aborted("upload aborted"))
        raise
    except BaseException as exc:  # the source failed (client gone): the consumer re-raises it
        q.put_nowait(exc)
        return
    q.put_nowait(_End())


async def consume_in_thread(
    chunks: AsyncIterable[bytes], consume: Callable[[Iterator[bytes]], T], depth: int = DEPTH
) -> T:
    """Run `consume(iterator)` in a worker thread, fed from `chunks`; return its result.

    Errors of the source are raised inside the consumer (so it cleans up) and then here. If the
    caller is cancelled, the consumer sees `Aborted` on its next read and this coroutine waits
    for it to finish before re-raising, so nothing it was writing is left behind.
    """
    loop = asyncio.get_running_loop()
    q: queue.Queue[bytes | _End | BaseException] = queue.Queue()
    slots = asyncio.Semaphore(depth)

    def release() -> None:
        loop.call_soon_threadsafe(slots.release)

    producer = asyncio.create_task(_produce(chunks, q, slots))
    work = loop.run_in_executor(None, consume, _chunk_iter(q, release))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        producer.cancel()
        await asyncio.wait([work])
        if not work.cancelled():
            work.exception()  # retrieved: the consumer's Aborted is expected here
        raise
    finally:
        producer.cancel()
        with suppress(asyncio.CancelledError):
            await producer


class ChunkReader:
    """A read-only file over an iterator of byte chunks, with `peek` for magic-byte sniffing.

    Reads slice the current chunk without copying the rest of it, so small reads from large
    chunks (tarfile reads 10 KiB at a time) stay linear.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buf = b""
        self._pos = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def _more(self) -> bool:
        """Append the next non-empty chunk to the unread bytes; False at the end."""
        for chunk in self._chunks:
            if chunk:
                self._buf = self._buf[self._pos :] + bytes(chunk)
                self._pos = 0
                return True
        self._eof = True
        return False

    def peek(self, n: int) -> bytes:
        """Up to `n` bytes from the front without consuming them (fewer only at the end)."""
        while len(self._buf) - self._pos < n and not self._eof and self._more():
            pass
        return self._buf[self._pos : self._pos + n]

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            while not self._eof and self._more():
                pass
            n = len(self._buf) - self._pos
        elif self._pos >= len(self._buf) and not self._eof:
            self._more()  # one chunk is enough: short reads are allowed
        data = self._buf[self._pos : self._pos + n]
        self._pos += len(data)
        return data

    def close(self) -> None:
        self._buf, self._pos, self._eof = b"", 0, True
