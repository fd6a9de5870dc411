"""Receiving a build's context: the request body to a spool file and an index, in one pass.

The event loop batches the body's chunks and hands them to one worker thread through a bounded
queue (a thread hop per megabyte, not per chunk; a full queue makes the upload wait). The
worker decompresses, spools and indexes the tar as it arrives (builder/ctxindex.py), so when
the upload ends the context's digests are known and nothing has been unpacked.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterable
from pathlib import Path

from dockwright.builder.ctxindex import ContextIndex, SpoolingReader, index_stream
from dockwright.builder.ctxtree import LazyTree

BATCH = 1 << 20  # bytes handed to the worker at a time
DEPTH = 8  # batches in flight
POLL = 0.1  # seconds the worker waits for a batch before looking for the end


class Feed:
    """Byte batches from the event loop to one worker thread, in order, then the end."""

    def __init__(self, depth: int = DEPTH) -> None:
        self._queue: queue.Queue[bytes] = queue.Queue(depth)
        self._closed = threading.Event()
        self._ended = False

    async def put(self, data: bytes) -> None:
        """Hand over `data` (event loop side); waits in a thread only when the queue is full."""
        try:
            self._queue.put_nowait(data)
        except queue.Full:
            await asyncio.to_thread(self._queue.put, data)

    def close(self) -> None:
        """No more batches (never blocks: the worker also notices by polling)."""
        self._closed.set()
        try:
            self._queue.put_nowait(b"")
        except queue.Full:
            pass

    def pull(self) -> bytes:
        """The next batch (worker side), b"" once the feed is closed and empty."""
        while not self._ended:
            try:
                data = self._queue.get(timeout=POLL)
            except queue.Empty:
                self._ended = self._closed.is_set() and self._queue.empty()
                continue
            if data:
                return data
            self._ended = True
        return b""


async def receive(chunks: AsyncIterable[bytes], workdir: Path) -> LazyTree:
    """The context uploaded as `chunks`, indexed and spooled to `workdir`/context.tar, with
    the (empty, lazy) context directory `workdir`/context. InvalidParameter for a bad tar."""
    root, spool = workdir / "context", workdir / "context.tar"
    root.mkdir()
    return LazyTree(root, await index_upload(chunks, spool), spool)


async def index_upload(
    chunks: AsyncIterable[bytes], spool: Path, append: bool = False
) -> ContextIndex:
    """The index of the tar uploaded as `chunks`, spooled uncompressed to `spool` (after
    what it holds when `append`; the index's offsets then count from where the upload starts)."""
    feed = Feed()
    worker = asyncio.ensure_future(asyncio.to_thread(_index, feed, spool, "ab" if append else "wb"))
    try:
        await _pump(chunks, feed)
    except BaseException:
        feed.close()
        await asyncio.wait([worker])  # the thread stops writing before the caller cleans up
        if not worker.cancelled():
            worker.exception()  # retrieved: the upload's own error is the one that counts
        raise
    feed.close()
    return await worker


async def _pump(chunks: AsyncIterable[bytes], feed: Feed) -> None:
    batch: list[bytes] = []
    size = 0
    async for chunk in chunks:
        batch.append(chunk)
        size += len(chunk)
        if size >= BATCH:
            await feed.put(b"".join(batch))
            batch, size = [], 0
    if size:
        await feed.put(b"".join(batch))


def _index(feed: Feed, spool: Path, mode: str) -> ContextIndex:
    """Worker thread: spool and index the feed; always reads it to its end."""
    with spool.open(mode) as f:
        reader = SpoolingReader(feed.pull, f)
        try:
            return index_stream(reader)
        finally:
            reader.drain()
