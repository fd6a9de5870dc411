"""Receiving the context (engine/builds/receive.py): chunks to an index in one worker thread,
errors that end it cleanly; and the background deletion of build scratch (scratch.py)."""

from __future__ import annotations

import asyncio
import io
import tarfile
from collections.abc import AsyncIterator

import pytest

from dockwright.engine.builds.receive import Feed, receive
from dockwright.engine.builds.scratch import Trash
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit


def context_tar(count: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for i in range(count):
            data = f"file {i}\n".encode() * 300
            info = tarfile.TarInfo(f"d{i % 3}/f{i}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def chunks_of(data: bytes, size: int = 4096, fail_at: int = -1) -> AsyncIterator[bytes]:
    for n, i in enumerate(range(0, len(data), size)):
        if n == fail_at:
            raise ConnectionError("client went away")
        yield data[i : i + size]
        await asyncio.sleep(0)


def test_receive_indexes_and_spools_in_one_pass(tmp_path):
    raw = context_tar(200)
    tree = asyncio.run(receive(chunks_of(raw), tmp_path))
    assert tree.spool.read_bytes() == raw
    assert len([p for p, e in tree.index.entries.items() if e.kind == "file"]) == 200
    assert tree.root.is_dir() and not any(tree.root.iterdir())


def test_a_bad_tar_is_refused_after_the_upload(tmp_path):
    with pytest.raises(InvalidParameter, match="failed to read the build context"):
        asyncio.run(receive(chunks_of(b"x" * 100_000), tmp_path))


def test_a_broken_upload_stops_the_worker(tmp_path):
    # the upload's error wins over the truncated tar's; asyncio.run joins the worker thread,
    # so a worker left waiting for more chunks would hang here
    with pytest.raises(ConnectionError):
        asyncio.run(receive(chunks_of(context_tar(2000), size=300_000, fail_at=5), tmp_path))
    assert (tmp_path / "context.tar").stat().st_size >= 1 << 20


def test_feed_keeps_order_and_ends_once_closed():
    async def main() -> list[bytes]:
        feed = Feed(depth=2)
        got: list[bytes] = []

        def consume() -> None:
            while data := feed.pull():
                got.append(data)

        worker = asyncio.ensure_future(asyncio.to_thread(consume))
        for i in range(20):
            await feed.put(bytes([i]))  # more than the queue holds: waits for the worker
        feed.close()
        await worker
        return got

    assert asyncio.run(main()) == [bytes([i]) for i in range(20)]


def test_trash_deletes_in_the_background_and_close_waits(tmp_path):
    async def main() -> None:
        trash = Trash(tmp_path / "trash")
        work = tmp_path / "build-1"
        (work / "context" / "deep").mkdir(parents=True)
        (work / "context" / "deep" / "f").write_text("x")
        trash.discard(work)
        assert not work.exists()  # moved away at once
        trash.discard(tmp_path / "never-was")
        await trash.close()

    asyncio.run(main())
    assert list((tmp_path / "trash").iterdir()) == []
