"""Conformance suite for content stores: every implementation of Provider + Ingester + Manager
passes these. Subclass `ContentStoreSuite` and provide a `store` fixture."""

from __future__ import annotations

import hashlib

import pytest

from dockwright.errors import InvalidParameter, NotFound
from dockwright.store.content import Descriptor


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class ContentStoreSuite:
    def test_ingest_then_read_back(self, store):
        desc = store.ingest(b"hello")
        assert desc == Descriptor(sha(b"hello"), 5)
        assert store.has(desc.digest)
        assert store.read(desc.digest) == b"hello"
        assert store.size(desc.digest) == 5
        with store.open(desc.digest) as f:
            assert f.read() == b"hello"

    def test_stream_ingest_hashes_all_chunks(self, store):
        parts = [b"a" * 1000, b"", b"b" * 70000, b"c"]
        desc = store.ingest_stream(iter(parts))
        assert desc.digest == sha(b"".join(parts))
        assert desc.size == 71001

    def test_expected_digest_is_verified(self, store):
        with pytest.raises(InvalidParameter, match="digest mismatch"):
            store.ingest(b"data", expected=sha(b"other"))
        assert not store.has(sha(b"data"))
        assert store.list() == []

    def test_expected_size_is_verified(self, store):
        with pytest.raises(InvalidParameter, match="size mismatch"):
            store.ingest_stream([b"1234"], expected=sha(b"1234"), size=5)
        assert not store.has(sha(b"1234"))

    def test_failing_source_leaves_nothing(self, store):
        def source():
            yield b"partial"
            raise ConnectionError("client went away")

        with pytest.raises(ConnectionError):
            store.ingest_stream(source())
        assert store.list() == []

    def test_ingest_is_idempotent(self, store):
        first = store.ingest(b"same")
        second = store.ingest(b"same", expected=first.digest)
        assert first == second
        assert store.list() == [first]

    def test_list_and_delete(self, store):
        a, b = store.ingest(b"a"), store.ingest(b"b")
        assert sorted(store.list(), key=lambda d: d.digest) == sorted(
            [a, b], key=lambda d: d.digest
        )
        store.delete(a.digest)
        assert not store.has(a.digest)
        assert store.list() == [b]

    def test_missing_blob_is_not_found(self, store):
        missing = sha(b"nothing")
        assert not store.has(missing)
        for call in (store.read, store.size, store.open, store.delete):
            with pytest.raises(NotFound, match="no such blob"):
                call(missing)

    def test_malformed_digest_is_rejected(self, store):
        for bad in ("sha256:xyz", "md5:" + "0" * 32, "0" * 64):
            with pytest.raises(InvalidParameter, match="invalid digest"):
                store.has(bad)
