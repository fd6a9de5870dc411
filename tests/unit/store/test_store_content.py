from __future__ import annotations

import asyncio
import os

import pytest
from content_suite import ContentStoreSuite, sha

from dockwright.errors import InvalidParameter
from dockwright.store.content import ContentStore

pytestmark = pytest.mark.unit


class TestFilesystemContentStore(ContentStoreSuite):
    @pytest.fixture
    def store(self, tmp_path):
        return ContentStore(tmp_path / "content")


def test_layout_is_blobs_sha256_hex(tmp_path):
    store = ContentStore(tmp_path)
    desc = store.ingest(b"x")
    assert (tmp_path / "blobs" / "sha256" / desc.digest[7:]).read_bytes() == b"x"
    assert os.listdir(tmp_path / "ingest") == []


def test_failed_ingest_leaves_no_temp_file(tmp_path):
    store = ContentStore(tmp_path)
    with pytest.raises(InvalidParameter):
        store.ingest(b"x", expected=sha(b"y"))
    assert os.listdir(tmp_path / "ingest") == []


def test_recover_drops_interrupted_writes(tmp_path):
    store = ContentStore(tmp_path)
    (tmp_path / "ingest" / "leftover").write_bytes(b"half")
    store.recover()
    assert os.listdir(tmp_path / "ingest") == []


def test_async_ingest_from_an_async_source(tmp_path):
    store = ContentStore(tmp_path)

    async def source():
        for i in range(50):
            await asyncio.sleep(0)
            yield bytes([i]) * 1000

    desc = asyncio.run(store.ingest_async(source()))
    assert desc.digest == sha(b"".join(bytes([i]) * 1000 for i in range(50)))
    assert store.read(desc.digest)[:1000] == b"\0" * 1000
