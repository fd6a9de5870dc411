"""The context index (ctxindex.py) and the lazy context (ctxtree.py, ctxfind.py): the same answers
as an unpacked directory, files written only when asked for, and the untrusted tar kept in."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import tarfile
from pathlib import Path

import pytest

from dockwright.builder import context as ctx
from dockwright.builder.ctxindex import BLOCK, Entry, SpoolingReader, index_stream, merged
from dockwright.builder.ctxtree import LazyTree
from dockwright.builder.ignore import parse_ignore
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit

MTIME = 1_600_000_000


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, mode: int = 0o644,
           link: str = "") -> tuple[tarfile.TarInfo, bytes]:  # fmt: skip
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, MTIME, link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def lazy(tmp: Path, raw: bytes, chunk: int = 7000) -> LazyTree:
    """Index `raw` fed in chunks, as the daemon receives it."""
    pieces = iter([raw[i : i + chunk] for i in range(0, len(raw), chunk)])
    spool = tmp / "context.tar"
    with spool.open("wb") as f:
        reader = SpoolingReader(lambda: next(pieces, b""), f)
        index = index_stream(reader)
        reader.drain()
    root = tmp / "context"
    root.mkdir()
    return LazyTree(root, index, spool)


SAMPLE = [
    member("Dockerfile", b"FROM scratch\r\nCOPY . /\r\n"),
    member("app", kind=tarfile.DIRTYPE, mode=0o755),
    member("app/main.sh", b"#!/bin/sh\necho hi\n", mode=0o4775),
    member("app/lib", kind=tarfile.DIRTYPE, mode=0o750),
    member("app/lib/a.txt", b"a" * 5000),
    member("app/lib/b.txt", b"b"),
    member("app/link", kind=tarfile.SYMTYPE, link="lib/a.txt"),
    member("app/out", kind=tarfile.SYMTYPE, link="/etc"),
    member("app/hard", kind=tarfile.LNKTYPE, link="app/lib/b.txt"),
    member("docs/x.md", b"# x\n"),
    member("logs/run.log", b"noise"),
]
PATTERNS = ["app", "app/", "app/lib/a.txt", "*.md", "*/lib", "app/*", "docs/x.md", ".", "app/link",
            "app/l*/?.txt", "missing", "app/out"]  # fmt: skip


def unpacked(tmp: Path, raw: bytes) -> Path:
    root = tmp / "disk"
    root.mkdir()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        tf.extractall(root, filter="tar")
    return root


@pytest.mark.parametrize("pattern", PATTERNS)
def test_lazy_answers_match_an_unpacked_directory(tmp_path, pattern):
    raw = tar_bytes(SAMPLE)
    disk, tree = unpacked(tmp_path, raw), lazy(tmp_path, raw)
    with ctx.attach(tree):
        got = ctx.find_sources(tree.root, pattern)
        hashed = ctx.hash_sources(got)
    want = ctx.find_sources(disk, pattern)
    assert [(s.name, s.is_dir) for s in got] == [(s.name, s.is_dir) for s in want]
    assert hashed == ctx.hash_sources(want)
    assert not any(tree.root.iterdir())  # finding and hashing wrote nothing out


def test_excludes_and_ignore_apply_to_the_index(tmp_path):
    raw = tar_bytes(SAMPLE)
    disk, tree = unpacked(tmp_path, raw), lazy(tmp_path, raw)
    patterns = parse_ignore("logs\n**/*.md\n")
    exclude = parse_ignore("**/b.txt")
    with ctx.attach(tree):
        ctx.prune(tree.root, patterns)
        assert ctx.find_sources(tree.root, "logs") == []
        assert ctx.find_sources(tree.root, "docs/x.md") == []
        got = ctx.hash_sources(ctx.find_sources(tree.root, "."), exclude)
    ctx.prune(disk, patterns)
    assert got == ctx.hash_sources(ctx.find_sources(disk, "."), exclude)
    assert "logs/run.log" not in {name for name, _m, _d in got}


def test_ignored_files_never_change_the_key(tmp_path):
    def key(run: Path, noise: bytes) -> list[tuple[str, int, str]]:
        run.mkdir()
        tree = lazy(run, tar_bytes([*SAMPLE[:6], member("logs/run.log", noise)]))
        with ctx.attach(tree):
            ctx.prune(tree.root, parse_ignore("logs"))
            return ctx.hash_sources(ctx.find_sources(tree.root, "."))

    assert key(tmp_path / "1", b"one") == key(tmp_path / "2", b"two")


def test_a_source_is_written_out_when_its_path_is_read(tmp_path):
    tree = lazy(tmp_path, tar_bytes(SAMPLE))
    with ctx.attach(tree):
        [lib] = ctx.find_sources(tree.root, "app/lib")
        [link] = ctx.find_sources(tree.root, "app/link")
    assert lib.path == tree.root / "app" / "lib"
    assert sorted(os.listdir(tree.root / "app")) == ["lib"]  # nothing else of app/
    a = tree.root / "app" / "lib" / "a.txt"
    assert a.read_bytes() == b"a" * 5000 and os.stat(a).st_mode & 0o7777 == 0o644
    assert os.stat(a).st_mtime == MTIME
    assert os.stat(lib.path).st_mode & 0o777 == 0o750 and os.stat(lib.path).st_mtime == MTIME
    assert os.readlink(link.path) == "lib/a.txt"
    ctx.materialize(tree.root)  # not attached any more: nothing happens
    assert not (tree.root / "docs").exists()
    tree.materialize("")
    assert (tree.root / "app" / "hard").read_bytes() == b"b"
    assert os.stat(tree.root / "app" / "main.sh").st_mode & 0o7777 == 0o755  # no setuid


def test_dockerfile_and_ignore_file_are_read_from_the_index(tmp_path):
    extra = [member("sub/app.Dockerfile.dockerignore", b"b\n"), member(".dockerignore", b"a\n")]
    tree = lazy(tmp_path, tar_bytes([*SAMPLE, *extra]))
    with ctx.attach(tree):
        assert ctx.read_text(tree.root, "Dockerfile") == "FROM scratch\nCOPY . /\n"
        assert ctx.read_text(tree.root, "app/link") == "a" * 5000
        assert ctx.read_text(tree.root, "nope") is None
        assert ctx.read_text(tree.root, "app") is None
        assert [p.text for p in ctx.load_ignore(tree.root, "sub/app.Dockerfile")] == ["b"]
        with pytest.raises(InvalidParameter, match="must be within the build context"):
            ctx.read_text(tree.root, "../outside")
    assert not any(tree.root.iterdir())


@pytest.mark.parametrize("chunk", [1, 333, 1 << 20])
def test_gzip_upload_is_spooled_uncompressed_with_digests(tmp_path, chunk):
    raw = tar_bytes(SAMPLE)
    tree = lazy(tmp_path, gzip.compress(raw), chunk=chunk)
    spooled = tree.spool.read_bytes()
    assert raw.startswith(spooled)  # up to the archive's end at least
    entry = tree.index.get("app/lib/a.txt")
    assert entry is not None and entry.digest == hashlib.sha256(b"a" * 5000).hexdigest()
    assert spooled[entry.offset : entry.offset + entry.size] == b"a" * 5000


@pytest.mark.parametrize("chunk", [1, 9, 333, 1 << 20])
def test_a_gzip_of_several_members_is_one_context(tmp_path, chunk):
    raw = tar_bytes(SAMPLE)
    cuts = [0, 700, 701, 3000, len(raw)]  # pigz-style: one member per piece, one of 1 byte
    packed = b"".join(gzip.compress(raw[a:b]) for a, b in zip(cuts, cuts[1:], strict=False))
    tree = lazy(tmp_path, packed + b"\0" * 512, chunk=chunk)  # padding after the last member
    assert raw.startswith(tree.spool.read_bytes())
    entry = tree.index.get("app/lib/a.txt")
    assert entry is not None and entry.digest == hashlib.sha256(b"a" * 5000).hexdigest()


def test_a_merged_context_keeps_files_and_takes_the_upload(tmp_path):
    first = lazy(tmp_path, tar_bytes(SAMPLE))
    kept = {p: e for p, e in first.index.entries.items() if e.kind == "file"}
    upload = tar_bytes([member("app", kind=tarfile.DIRTYPE), member("app/new.txt", b"new"),
                        member("Dockerfile", b"FROM busybox\n")])  # fmt: skip
    base = first.spool.stat().st_size
    (tmp_path / "u").mkdir()
    second = lazy(tmp_path / "u", upload)
    with first.spool.open("ab") as f:
        f.write(second.spool.read_bytes())
    index = merged(second.index, base, kept)
    tree = LazyTree(tmp_path / "m", index, first.spool)
    (tmp_path / "m").mkdir()
    tree.materialize("")
    assert (tree.root / "Dockerfile").read_bytes() == b"FROM busybox\n"  # the upload wins
    assert (tree.root / "app" / "new.txt").read_bytes() == b"new"
    assert (tree.root / "app" / "lib" / "a.txt").read_bytes() == b"a" * 5000  # kept
    assert index.get("app/lib") == Entry("dir", 0o755)  # implied by a kept file


def test_a_merge_refuses_a_kept_file_below_an_uploaded_symlink(tmp_path):
    kept = lazy(tmp_path, tar_bytes([member("d/f", b"x")])).index.entries
    (tmp_path / "u").mkdir()
    upload = lazy(tmp_path / "u", tar_bytes([member("d", kind=tarfile.SYMTYPE, link="/etc")]))
    with pytest.raises(InvalidParameter, match="below the symlink d"):
        merged(upload.index, 0, {"d/f": kept["d/f"]})


def test_symlinks_resolve_inside_the_context(tmp_path):
    (tmp_path / "etc").mkdir()
    tree = lazy(tmp_path, tar_bytes([*SAMPLE, member("etc/passwd", b"mine")]))
    with ctx.attach(tree):
        [found] = ctx.find_sources(tree.root, "app/out/passwd")  # app/out -> /etc
        assert ctx.hash_sources([found])[0][2] == hashlib.sha256(b"mine").hexdigest()
    assert found.path.read_bytes() == b"mine"
    assert found.path == tree.root / "etc" / "passwd"


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([member("../escape", b"x")], "outside the context"),
        ([member("a/../../escape", b"x")], "outside the context"),
        (
            [member("up", kind=tarfile.SYMTYPE, link="/etc"), member("up/passwd", b"x")],
            "below the symlink up",
        ),  # fmt: skip
        ([member("f", b"x"), member("f/g", b"y")], "below the file f"),
        ([member("h", kind=tarfile.LNKTYPE, link="../../etc/shadow")], "outside the context"),
        ([member("h", kind=tarfile.LNKTYPE, link="nothing")], "hard link h to nothing"),
    ],
)
def test_hostile_contexts_are_refused(tmp_path, members, message):
    with pytest.raises(InvalidParameter, match=message):
        lazy(tmp_path, tar_bytes(members))


def test_absolute_names_stay_inside_and_devices_are_dropped(tmp_path):
    members = [member("/abs/file", b"x"), member("dev", kind=tarfile.CHRTYPE),
               member("pipe", kind=tarfile.FIFOTYPE)]  # fmt: skip
    tree = lazy(tmp_path, tar_bytes(members))
    assert sorted(tree.index.entries) == ["abs", "abs/file"]
    tree.materialize("")
    assert (tree.root / "abs" / "file").read_bytes() == b"x"
    assert sorted(os.listdir(tree.root)) == ["abs"]


def test_a_bad_upload_is_refused(tmp_path):
    with pytest.raises(InvalidParameter, match="failed to read the build context"):
        lazy(tmp_path, b"\x1f\x8b" + b"not gzip at all" * 100)


class Recorder(io.BytesIO):
    """A spool that remembers the largest piece written to it."""

    largest = 0

    def write(self, data) -> int:  # type: ignore[override]
        self.largest = max(self.largest, len(data))
        return super().write(data)


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_compressed_uploads_unpack_a_piece_at_a_time(compress):
    zeros = b"\0" * (5 << 20)
    raw = tar_bytes([member("zeros", zeros)])
    packed = iter([compress(raw), b""])
    spool = Recorder()
    index = index_stream(SpoolingReader(lambda: next(packed), spool))
    entry = index.get("zeros")
    assert entry is not None and entry.digest == hashlib.sha256(zeros).hexdigest()
    assert raw.startswith(spool.getvalue()) and len(spool.getvalue()) > len(zeros)
    assert 0 < spool.largest <= BLOCK
