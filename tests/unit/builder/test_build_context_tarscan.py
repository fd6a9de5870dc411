"""The streaming tar walker (tarscan.py) against tarfile's own reading of the same archives:
every format's long names, pax values, offsets and digests, whatever the piece sizes."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from dockwright.builder.tarscan import Scanned, TarScanner
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit

LONG = "deep/" * 30 + "name-longer-than-a-hundred-characters.txt"


def archive(fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, data, kind, link in [
            ("dir", b"", tarfile.DIRTYPE, ""),
            ("dir/empty", b"", tarfile.REGTYPE, ""),
            ("dir/one-block", b"x" * 512, tarfile.REGTYPE, ""),
            (LONG, b"long" * 999, tarfile.REGTYPE, ""),
            ("ünïcode-ñame", b"u", tarfile.REGTYPE, ""),
            ("sym", b"", tarfile.SYMTYPE, "l" * 150),
            ("hard", b"", tarfile.LNKTYPE, "dir/one-block"),
            ("fifo", b"", tarfile.FIFOTYPE, ""),
        ]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, link, len(data)
            # a uid over 7 octal digits: a pax record, or GNU's base-256 (tarfile's parser)
            info.mode, info.uid, info.mtime = 0o640, 3_000_000, 1_700_000_000
            tf.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def scan(raw: bytes, piece: int) -> list[Scanned]:
    found: list[Scanned] = []
    scanner = TarScanner(found.append)
    for i in range(0, len(raw), piece):
        scanner.push(raw[i : i + piece])
    scanner.finish()
    return found


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("piece", [1, 511, 4096, 1 << 20])
def test_scan_agrees_with_tarfile(fmt, piece):
    # ustar cannot hold LONG's name: that format gets an archive without it
    raw = archive(fmt) if fmt != tarfile.USTAR_FORMAT else ustar_archive()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        want = [(m.name, m.type, m.size if m.isreg() else 0, m.linkname, m.mode, m.uid,
                 int(m.mtime), m.offset_data) for m in tf.getmembers()]  # fmt: skip
        digests = {m.name: hashlib.sha256(tf.extractfile(m).read()).hexdigest()  # type: ignore[union-attr]
                   for m in tf.getmembers() if m.isreg()}  # fmt: skip
    got = scan(raw, piece)
    assert [(s.info.name, s.info.type, s.info.size if s.info.isreg() else 0, s.info.linkname,
             s.info.mode, s.info.uid, int(s.info.mtime), s.offset) for s in got] == want  # fmt: skip
    assert {s.info.name: s.digest for s in got if s.info.isreg()} == digests


def ustar_archive() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in [("a", b"a" * 700), ("b/c", b""), ("d", b"d")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty archive"),
        (b"garbage" * 100, "bad tar header"),
        (archive(tarfile.GNU_FORMAT)[:1500], "unexpected end of data"),
    ],
)
def test_broken_archives_are_refused(raw, message):
    with pytest.raises(InvalidParameter, match=message):
        scan(raw, 4096)


def test_the_archive_ends_at_its_first_zero_block():
    raw = ustar_archive()
    trailing = raw + b"\0" * 1024 + b"not a header" * 100
    assert [s.info.name for s in scan(trailing, 333)] == ["a", "b/c", "d"]
