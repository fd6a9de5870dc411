"""COPY/ADD flags (--exclude, --parents, --checksum, --link), ADD URL naming and checksums,
SOURCE_DATE_EPOCH parsing and mtime clamping of layer tars: pure logic on temporary dirs."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import tarfile
import threading

import pytest

from dockwright.builder import context as ctx
from dockwright.builder import copy as cp
from dockwright.builder import copyflags as cf
from dockwright.builder import fetch
from dockwright.builder.history import source_date_epoch
from dockwright.builder.parser import parse
from dockwright.errors import InvalidParameter
from dockwright.image.tardiff import tar_diff

pytestmark = pytest.mark.unit

SHA = "sha256:" + "ab" * 32


def ins(line: str):
    return parse(line).instructions[0]


def tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


# --- URL file names, Last-Modified, checksums -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "disposition", "name"),
    [
        ("http://h/dir/tool.tar.gz", None, "tool.tar.gz"),
        ("http://h/dir/tool.tar.gz?x=1#frag", None, "tool.tar.gz"),
        ("http://h/a%20b.txt", None, "a b.txt"),
        ("http://h/", None, "index"),
        ("http://h", None, "index"),
        ("http://h/dir/", None, "dir"),
        ("http://h/download?id=3", 'attachment; filename="real.bin"', "real.bin"),
        ("http://h/x", "attachment; filename=../../etc/passwd", "passwd"),
        ("http://h/x", "attachment; filename*=UTF-8''caf%C3%A9.txt", "café.txt"),
        ("http://h/x", 'attachment; filename="d/"', "x"),
        ("http://h/x", "inline", "x"),
    ],
)
def test_file_name_from_disposition_then_path(url, disposition, name):
    assert fetch.file_name(url, disposition) == name


def test_last_modified_parses_http_dates_and_defaults_to_epoch():
    assert fetch.last_modified("Tue, 14 Nov 2023 22:13:20 GMT") == 1700000000
    assert fetch.last_modified(None) == 0
    assert fetch.last_modified("not a date") == 0


def test_digest_mismatch_uses_buildkit_message():
    fetch.check_digest("http://h/f", SHA, SHA)
    fetch.check_digest("http://h/f", SHA, "")
    with pytest.raises(InvalidParameter) as err:
        fetch.check_digest("http://h/f", "sha256:" + "00" * 32, SHA)
    assert str(err.value) == f"digest mismatch for http://h/f: sha256:{'00' * 32} (expected: {SHA})"


@pytest.mark.parametrize("url", ["ftp://h/f", "http://", "file:///etc/passwd"])
def test_download_refuses_other_schemes(tmp_path, url):
    with pytest.raises(InvalidParameter, match="invalid URL"):
        fetch.download(url, tmp_path)


class _Server:
    """A loopback HTTP server in a thread: GET /ok answers, anything else is a 404."""

    def __enter__(self) -> str:
        body = b"payload"

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/ok":
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_download_writes_0600_with_last_modified_and_reports_http_errors(tmp_path):
    with _Server() as base:
        got = fetch.download(base + "/ok", tmp_path / "a")
        with pytest.raises(InvalidParameter, match=r"failed to GET .*/missing with status 404"):
            fetch.download(base + "/missing", tmp_path / "b")
    st = got.path.stat()
    assert got.name == "ok" and got.path.read_bytes() == b"payload"
    assert (st.st_mode & 0o7777, int(st.st_mtime), got.mtime) == (0o600, 1700000000, 1700000000)
    assert got.digest == "sha256:" + hashlib.sha256(b"payload").hexdigest()


def test_parse_checksum():
    assert cf.parse_checksum(SHA.upper().replace("SHA256", "sha256")) == SHA
    assert cf.parse_checksum("sha512:" + "0" * 128) == "sha512:" + "0" * 128
    for bad, why in [
        ("ab" * 32, "format"),
        ("md5:" + "0" * 32, "algorithm"),
        ("sha256:abc", "length"),
        ("sha256:" + "zz" * 32, "length"),
    ]:
        with pytest.raises(InvalidParameter, match=why):
            cf.parse_checksum(bad)


def test_checksum_only_for_one_url_source_of_add():
    cf.check_checksum("add", ["https://h/f"], SHA)
    with pytest.raises(InvalidParameter, match="non-HTTP"):
        cf.check_checksum("add", ["local.txt"], SHA)
    with pytest.raises(InvalidParameter, match="multiple sources"):
        cf.check_checksum("add", ["http://h/a", "http://h/b"], SHA)
    with pytest.raises(InvalidParameter, match="COPY"):
        cf.check_checksum("copy", ["http://h/a"], SHA)


def test_copy_flags_from_an_instruction():
    flags = cf.copy_flags(
        ins("ADD --checksum=${SUM} --link http://h/f /d/"), ["http://h/f"], {"SUM": SHA}, "\\"
    )
    assert flags == cf.CopyFlags(link=True, checksum=SHA)
    copy = ins("COPY --exclude=*.md --exclude=$X --parents a b /d/")
    flags = cf.copy_flags(copy, ["a", "b"], {"X": "tmp"}, "\\")
    assert flags.excludes == ("*.md", "tmp") and flags.parents
    assert flags.cache_text() != cf.CopyFlags(excludes=("*.md",), parents=True).cache_text()
    with pytest.raises(InvalidParameter, match="boolean"):
        cf.copy_flags(ins("COPY --parents=maybe a /d/"), ["a"], {}, "\\")
    with pytest.raises(InvalidParameter, match="unknown flag: checksum"):
        ins(f"COPY --checksum={SHA} a /d/")


# --- --parents -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "match", "kept"),
    [
        ("x/a.txt", "x/a.txt", "x/a.txt"),
        ("./x/y/*.txt", "x/y/b.txt", "x/y/b.txt"),
        ("./x/./y/b.txt", "x/y/b.txt", "y/b.txt"),
        ("x/./y", "x/y", "y"),
        ("x/./*/c", "x/q/c", "q/c"),
        ("./a.txt", "a.txt", "a.txt"),
    ],
)
def test_parents_path(pattern, match, kept):
    assert cf.parents_path(pattern, match) == kept


def test_parents_sources_and_copy(tmp_path):
    ctxdir, root = tmp_path / "ctx", tmp_path / "root"
    tree(ctxdir, {"x/a.txt": "a", "y/a.txt": "b", "x/deep/d/e.txt": "e"})
    root.mkdir()
    flags = cf.CopyFlags(parents=True)
    sources = ctx.find_all(ctxdir, ["x/a.txt", "y/*.txt", "x/./deep/d"], ins("COPY a /d"),
                           tmp_path / "scratch", flags)  # fmt: skip
    assert [s.name for s in sources] == ["x/a.txt", "y/a.txt", "deep/d"]
    cp.copy_sources(root, cp.CopySpec(tuple(sources), "/out", parents=True))
    found = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert found == ["out/deep/d/e.txt", "out/x/a.txt", "out/y/a.txt"]


# --- --exclude -------------------------------------------------------------------------------


def test_exclude_drops_matches_and_entries_inside_directories(tmp_path):
    ctxdir, root = tmp_path / "ctx", tmp_path / "root"
    files = {"home.txt": "", "home.md": "", "src/a.py": "", "src/a.pyc": "", "src/tmp/x": "",
             "src/keep/tmp/y": ""}  # fmt: skip
    tree(ctxdir, files)
    root.mkdir()
    flags = cf.CopyFlags(excludes=("*.txt", "*.pyc", "tmp"))
    sources = ctx.find_all(ctxdir, ["hom*", "src"], ins("COPY a /d"), tmp_path / "s", flags)
    assert [s.name for s in sources] == ["home.md", "src"]
    spec = cp.CopySpec(tuple(sources), "/out/", exclude=tuple(flags.patterns()))
    cp.copy_sources(root, spec)
    found = sorted(str(p.relative_to(root / "out")) for p in (root / "out").rglob("*"))
    assert found == ["a.py", "home.md", "keep", "keep/tmp", "keep/tmp/y"]
    names = [n for n, _m, _d in ctx.hash_sources(sources, list(spec.exclude))]
    assert "src/a.pyc" not in names and "src/tmp" not in names and "src/a.py" in names


def test_exclude_exception_reincludes(tmp_path):
    tree(tmp_path / "ctx", {"d/a.log": "", "d/b.log": "", "d/c": ""})
    patterns = cf.CopyFlags(excludes=("*.log", "!b.log")).patterns()
    [src] = ctx.find_all(tmp_path / "ctx", ["d"], ins("COPY a /d"), tmp_path / "s")
    names = sorted(n for n, _m, _d in ctx.hash_sources([src], patterns))
    assert names == ["d", "d/b.log", "d/c"]


def test_excluded_content_does_not_change_the_key(tmp_path):
    tree(tmp_path, {"d/a": "1", "d/skip.tmp": "1"})
    [src] = ctx.find_sources(tmp_path, "d")
    patterns = cf.CopyFlags(excludes=("*.tmp",)).patterns()
    before = ctx.hash_sources([src], patterns)
    (tmp_path / "d" / "skip.tmp").write_text("2")
    assert ctx.hash_sources([src], patterns) == before
    (tmp_path / "d" / "a").write_text("2")
    assert ctx.hash_sources([src], patterns) != before


# --- URLs in find_all, --chmod on directories --------------------------------------------------


def test_urls_go_to_fetch_and_are_refused_for_copy(tmp_path):
    seen = []

    def fake(url, index):
        seen.append((url, index))
        path = tmp_path / "f.tar"
        path.write_bytes(b"")
        return ctx.Source(path, "f.tar", False, remote=True)

    add = ins("ADD a http://h/f.tar /d/")
    tree(tmp_path, {"a": ""})
    sources = ctx.find_all(tmp_path, ["a", "http://h/f.tar"], add, tmp_path / "s", None, fake)
    assert seen == [("http://h/f.tar", 1)] and sources[1].remote
    with pytest.raises(InvalidParameter, match="source can't be a URL for COPY"):
        ctx.find_all(tmp_path, ["http://h/f"], ins("COPY http://h/f /d/"), tmp_path, None, fake)


def test_remote_tar_is_not_unpacked(tmp_path):
    archive = tmp_path / "t.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("inner")
        tf.addfile(info, io.BytesIO(b""))
    root = tmp_path / "root"
    root.mkdir()
    src = ctx.Source(archive, "t.tar", False, remote=True)
    cp.copy_sources(root, cp.CopySpec((src,), "/d/", unpack=True))
    assert (root / "d" / "t.tar").is_file() and not (root / "d" / "inner").exists()


def test_chmod_applies_to_directories_recursively(tmp_path):
    tree(tmp_path / "ctx", {"d/sub/deeper/f": "x", "d/g": "y"})
    root = tmp_path / "root"
    root.mkdir()
    [src] = ctx.find_sources(tmp_path / "ctx", "d")
    cp.copy_sources(root, cp.CopySpec((src,), "/out", chmod=0o750))
    for rel in ("sub", "sub/deeper", "sub/deeper/f", "g"):
        assert (root / "out" / rel).stat().st_mode & 0o7777 == 0o750, rel


def test_directory_mtimes_survive_the_copy(tmp_path):
    tree(tmp_path / "ctx", {"d/sub/f": "x"})
    os.utime(tmp_path / "ctx" / "d" / "sub", (1000, 1000))
    root = tmp_path / "root"
    root.mkdir()
    [src] = ctx.find_sources(tmp_path / "ctx", "d")
    cp.copy_sources(root, cp.CopySpec((src,), "/out"))
    assert int((root / "out" / "sub").stat().st_mtime) == 1000


# --- SOURCE_DATE_EPOCH ---------------------------------------------------------------------------


def test_source_date_epoch_build_arg():
    assert source_date_epoch({}) is None
    assert source_date_epoch({"SOURCE_DATE_EPOCH": ""}) is None
    assert source_date_epoch({"SOURCE_DATE_EPOCH": "1700000000"}) == 1700000000
    with pytest.raises(InvalidParameter, match="SOURCE_DATE_EPOCH"):
        source_date_epoch({"SOURCE_DATE_EPOCH": "yesterday"})


def _members(data: bytes) -> dict[str, int]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name: int(m.mtime) for m in tf.getmembers()}


def test_tar_diff_clamps_only_newer_mtimes(tmp_path):
    tree(tmp_path, {"old": "o", "new": "n"})
    os.utime(tmp_path / "old", (100, 100))
    os.utime(tmp_path / "new", (5000, 5000))
    assert _members(b"".join(tar_diff(tmp_path))) == {"new": 5000, "old": 100}
    assert _members(b"".join(tar_diff(tmp_path, 1000))) == {"new": 1000, "old": 100}


def test_tar_diff_headers_carry_no_wall_clock(tmp_path):
    """No atime/ctime PAX records, no user names: only what the tree itself determines."""
    tree(tmp_path, {"d/f": "x"})
    with tarfile.open(fileobj=io.BytesIO(b"".join(tar_diff(tmp_path, 1000)))) as tf:
        members = tf.getmembers()
    assert [m.name for m in members] == ["d", "d/f"]
    for m in members:
        assert not {"atime", "ctime", "mtime"} & set(m.pax_headers), m.pax_headers
        assert (m.uname, m.gname, m.mtime) == ("", "", 1000)


def test_copy_replaces_symlinks_in_the_way_instead_of_following_them(tmp_path):
    """A symlink in the image where a copied directory goes never leads outside the root, also
    for an entry an --exclude exception re-includes below an excluded directory."""
    tree(tmp_path / "ctx", {"d/sub/keep.txt": "k", "d/sub/drop.txt": "x", "d/other/f": "f"})
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    (root / "out").mkdir(parents=True)
    os.symlink(outside, root / "out" / "sub")
    os.symlink(outside, root / "out" / "other")
    [src] = ctx.find_sources(tmp_path / "ctx", "d")
    patterns = cf.CopyFlags(excludes=("sub", "!sub/keep.txt")).patterns()
    cp.copy_sources(root, cp.CopySpec((src,), "/out", exclude=tuple(patterns)))
    assert list(outside.iterdir()) == []
    assert (root / "out" / "sub" / "keep.txt").read_text() == "k"
    assert not (root / "out" / "sub").is_symlink() and (root / "out" / "other" / "f").is_file()
    assert not (root / "out" / "sub" / "drop.txt").exists()
