"""Context sync: what must be uploaded (builder/ctxdiff.py) and the kept contexts that serve
the rest (engine/builds/ctxsync.py), driven with real tar uploads into a temporary directory."""

from __future__ import annotations

import asyncio
import io
import tarfile
from pathlib import Path

import pytest

from dockwright.builder.ctxdiff import SLACK, KeptInfo, diff, parse_offer, should_restart, to_evict
from dockwright.builder.ctxindex import Entry
from dockwright.engine.builds import ctxsync
from dockwright.engine.builds.ctxsync import ContextCache
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit


def tar_of(files: dict[str, bytes], dirs: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in dirs:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_600_000_000
            tf.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_600_000_000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def chunks_of(data: bytes):  # type: ignore[no-untyped-def]
    for i in range(0, len(data), 4096):
        yield data[i : i + 4096]


def sync(cache: ContextCache, work: Path, offered: dict[str, str], upload: dict[str, bytes],
         key: str = "k", dirs: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]  # fmt: skip
    """One build's sync: offer, claim, upload, release; (missing paths, the built tree)."""
    sid, missing = cache.offer(parse_offer({"Key": key, "Files": offered}))
    work.mkdir()
    session = cache.claim(sid)
    tree = asyncio.run(cache.receive(session, chunks_of(tar_of(upload, dirs)), work))
    cache.release(sid)
    return missing, tree


def read(tree, path: str) -> bytes:  # type: ignore[no-untyped-def]
    entry = tree.index.get(path)
    with open(tree.spool, "rb") as f:
        f.seek(entry.offset)
        return f.read(entry.size)


def test_offers_are_checked() -> None:
    assert parse_offer({"Key": "a-1", "Files": {"./x/../y": "1"}}).files == {"y": "1"}
    for bad, message in [
        ([], "expected a JSON object"),
        ({"Key": "../up", "Files": {}}, "invalid context key"),
        ({"Key": "k", "Files": []}, "Files must be an object"),
        ({"Key": "k", "Files": {"a": 1}}, "invalid fingerprint"),
        ({"Key": "k", "Files": {"../a": "1"}}, "outside the context"),
    ]:
        with pytest.raises(InvalidParameter, match=message):
            parse_offer(bad)


def test_only_changed_or_new_files_are_missing() -> None:
    a, b = Entry("file", 0o644, size=1, offset=0), Entry("file", 0o644, size=2, offset=512)
    reused, missing = diff({"a": ("1", a), "b": ("2", b)}, {"a": "1", "b": "3", "c": "4"})
    assert reused == {"a": a} and missing == ["b", "c"]


def test_restart_and_eviction_rules() -> None:
    kept = {"a": ("1", Entry("file", 0o644, size=10, offset=0))}
    assert not should_restart(10 + SLACK, kept)  # dead bytes within the slack
    assert should_restart(10 + SLACK + 1, kept)
    infos = [KeptInfo("old", 5, 1.0, 0), KeptInfo("busy", 5, 0.5, 1), KeptInfo("new", 5, 2.0, 0)]
    assert to_evict(infos, max_keys=2, max_bytes=100) == ["old"]  # the busy one is skipped
    assert to_evict(infos, max_keys=3, max_bytes=6) == ["old", "new"]
    assert to_evict(infos, max_keys=3, max_bytes=15) == []


def test_a_second_sync_sends_only_what_changed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = ContextCache(tmp_path / "contexts")
    files = {"Dockerfile": b"FROM busybox\n", "src/a.txt": b"a" * 3000, "src/b.txt": b"b"}
    fps = {"Dockerfile": "d1", "src/a.txt": "a1", "src/b.txt": "b1"}
    missing, first = sync(cache, tmp_path / "w1", fps, files, dirs=("src",))
    assert missing == sorted(fps)
    size = first.spool.stat().st_size
    missing, second = sync(cache, tmp_path / "w2", {**fps, "src/b.txt": "b2"},
                           {"src/b.txt": b"B!"}, dirs=("src",))  # fmt: skip
    assert missing == ["src/b.txt"]
    assert read(second, "src/b.txt") == b"B!" and read(second, "src/a.txt") == b"a" * 3000
    assert second.spool == first.spool and second.spool.stat().st_size > size  # appended
    assert read(first, "src/b.txt") == b"b"  # an earlier build still reads its own bytes
    del fps["src/a.txt"]
    missing, third = sync(cache, tmp_path / "w3", {**fps, "src/b.txt": "b2"}, {}, dirs=("src",))
    assert missing == [] and third.index.get("src/a.txt") is None  # deleted: gone from the index


def test_an_unchanged_context_reuses_the_last_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = ContextCache(tmp_path / "contexts")
    fps, files = {"f": "1", "d/g": "2"}, {"f": b"x", "d/g": b"y"}
    _, first = sync(cache, tmp_path / "w1", fps, files, dirs=("d",))
    _, second = sync(cache, tmp_path / "w2", fps, {}, dirs=("d",))
    _, third = sync(cache, tmp_path / "w3", fps, {}, dirs=("d",))
    assert third.index is second.index is first.index  # memos (pruned, hashes) carry over
    assert read(third, "d/g") == b"y"
    _, fourth = sync(cache, tmp_path / "w4", fps, {}, dirs=())  # a directory entry changed
    assert fourth.index is not third.index and read(fourth, "d/g") == b"y"


def test_keys_are_separate_and_prune_frees_idle_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = ContextCache(tmp_path / "contexts")
    sync(cache, tmp_path / "w1", {"f": "1"}, {"f": b"one"}, key="one")
    missing, _ = sync(cache, tmp_path / "w2", {"f": "1"}, {"f": b"two"}, key="two")
    assert missing == ["f"]  # another key never serves this one
    sid, _ = cache.offer(parse_offer({"Key": "one", "Files": {}}))  # pinned by a pending offer
    keys, freed = cache.prune()
    assert keys == ["two"] and freed > 0 and list(cache.kept) == ["one"]
    cache.release(sid)
    assert cache.prune()[0] == ["one"] and not any((tmp_path / "contexts").iterdir())


def test_sessions_are_used_once_and_expire(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cache = ContextCache(tmp_path / "contexts")
    sid, _ = cache.offer(parse_offer({"Key": "k", "Files": {}}))
    cache.claim(sid)
    with pytest.raises(InvalidParameter, match="unknown or used context session"):
        cache.claim(sid)
    with pytest.raises(InvalidParameter, match="unknown or used context session"):
        cache.claim("nope")
    cache.release(sid)
    stale, _ = cache.offer(parse_offer({"Key": "k", "Files": {}}))
    assert cache.kept["k"].users == 1
    monkeypatch.setattr(ctxsync, "SESSION_TTL", -1.0)
    cache.offer(parse_offer({"Key": "other", "Files": {}}))  # expires the stale offer
    assert stale not in cache.sessions and cache.kept["k"].users == 0


def test_a_mostly_dead_spool_starts_over(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("dockwright.builder.ctxdiff.SLACK", 0)
    cache = ContextCache(tmp_path / "contexts")
    sync(cache, tmp_path / "w1", {"f": "1"}, {"f": b"x" * 5000})
    sync(cache, tmp_path / "w2", {"f": "2"}, {"f": b"y" * 5000})  # the first copy is dead now
    missing, tree = sync(cache, tmp_path / "w3", {"f": "2"}, {"f": b"y" * 5000})
    assert missing == ["f"]  # started over: everything is uploaded once more
    assert tree.spool.stat().st_size < 15_000 and read(tree, "f") == b"y" * 5000


def test_two_builds_of_one_key_at_once_each_see_their_own_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = ContextCache(tmp_path / "contexts")
    sync(cache, tmp_path / "w0", {"f": "0", "g": "0"}, {"f": b"f0", "g": b"g0"})
    first, _ = cache.offer(parse_offer({"Key": "k", "Files": {"f": "1", "g": "0"}}))
    second, _ = cache.offer(parse_offer({"Key": "k", "Files": {"f": "0", "g": "2"}}))
    (tmp_path / "w1").mkdir()
    (tmp_path / "w2").mkdir()

    async def both():  # type: ignore[no-untyped-def]
        return await asyncio.gather(
            cache.receive(cache.claim(first), chunks_of(tar_of({"f": b"f1"})), tmp_path / "w1"),
            cache.receive(cache.claim(second), chunks_of(tar_of({"g": b"g2"})), tmp_path / "w2"),
        )

    one, two = asyncio.run(both())
    assert (read(one, "f"), read(one, "g")) == (b"f1", b"g0")
    assert (read(two, "f"), read(two, "g")) == (b"f0", b"g2")
    cache.release(first)
    cache.release(second)
    assert cache.kept["k"].users == 0
