from __future__ import annotations

import asyncio
import threading

import pytest

from dockwright.store.pump import Aborted, ChunkReader, consume_in_thread

pytestmark = pytest.mark.unit


def test_chunk_reader_reads_across_chunks_and_peeks():
    r = ChunkReader([b"ab", b"", b"cde", b"f"])
    assert r.peek(4) == b"abcd"
    assert r.read(1) == b"a"
    assert r.read(100) == b"bcde"  # a short read: what is buffered
    assert r.read() == b"f"
    assert r.read(5) == b""


def test_consumer_runs_in_a_worker_thread_and_sees_every_chunk():
    loop_thread = threading.get_ident()

    async def source():
        for i in range(100):
            yield str(i).encode()

    def consume(it):
        assert threading.get_ident() != loop_thread
        return b",".join(it)

    out = asyncio.run(consume_in_thread(source(), consume))
    assert out == b",".join(str(i).encode() for i in range(100))


def test_buffering_is_bounded():
    produced = []
    gate = threading.Event()

    async def source():
        for i in range(50):
            produced.append(i)
            yield b"x"

    def consume(it):
        gate.wait(5)
        return sum(1 for _ in it)

    async def main():
        task = asyncio.create_task(consume_in_thread(source(), consume, depth=4))
        await asyncio.sleep(0.2)
        ahead = len(produced)
        gate.set()
        return ahead, await task

    ahead, total = asyncio.run(main())
    assert ahead <= 5  # the depth, plus the one waiting for a slot
    assert total == 50


def test_source_error_reaches_consumer_and_caller():
    seen = []

    async def source():
        yield b"a"
        raise ConnectionError("client gone")

    def consume(it):
        try:
            for _ in it:
                pass
        except ConnectionError:
            seen.append("consumer saw it")
            raise

    with pytest.raises(ConnectionError):
        asyncio.run(consume_in_thread(source(), consume))
    assert seen == ["consumer saw it"]


def test_cancelling_the_caller_aborts_the_consumer_and_waits_for_it():
    cleaned = threading.Event()

    async def source():
        while True:
            await asyncio.sleep(0.01)
            yield b"x"

    def consume(it):
        try:
            for _ in it:
                pass
        except Aborted:
            cleaned.set()
            raise

    async def main():
        task = asyncio.create_task(consume_in_thread(source(), consume))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return cleaned.is_set()

    assert asyncio.run(main())
