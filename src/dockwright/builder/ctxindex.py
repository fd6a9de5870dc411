"""The build context as an index: one entry per path, each file's digest taken while it streams in.

`index_stream` reads the uploaded tar once (plain, gzip, bzip2 or xz; tarscan.py walks it),
writes the uncompressed tar to a spool file and returns a `ContextIndex`: for every path its kind, mode, owner, mtime, a
regular file's sha256 and where its bytes sit in the spool. Cache keys come from the index, so a
fully cached build never writes the context out as files (ctxtree.py does that for a step that
misses).

The context is untrusted; the index applies the rules of tarfile's "tar" filter and more:
- names are cleaned; one that leaves the context (`..`) fails the upload;
- modes lose setuid/setgid/sticky and group/other write bits (`& 0o755`);
- a hard link must name a regular file that came earlier; it becomes a copy of that file;
- device files and fifos are left out (never created on the host, never copied);
- a path below a symlink or below a file fails the upload (nothing is written through a link).
"""

from __future__ import annotations

import bz2
import lzma
import posixpath
import stat
import tarfile
import zlib
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import IO, Any, TypeVar, cast

from dockwright.builder.ignore import Pattern, is_ignored, may_reinclude_below
from dockwright.builder.tarscan import Scanned, TarScanner
from dockwright.errors import InvalidParameter

BLOCK = 1 << 20
DIR_MODE = 0o755  # directories the tar implies without an entry of their own
MAX_LINKS = 40
MAGIC = 6  # bytes that tell gzip, bzip2 and xz apart from a plain tar
GZIP_MAGIC = b"\x1f\x8b"
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """One path of the context. `offset`/`size` locate a file's bytes in the spool."""

    kind: str  # "file", "dir" or "symlink"
    mode: int  # permission bits, filtered (& 0o755)
    uid: int = 0
    gid: int = 0
    mtime: float = -1.0  # -1: not known (a directory the tar implies): left as written
    size: int = 0
    offset: int = 0
    digest: str = ""  # sha256 hex of a file's bytes
    target: str = ""  # a symlink's target, as written

    @property
    def st_mode(self) -> int:
        """The mode lstat would report for the path once written out."""
        kinds = {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "symlink": stat.S_IFLNK}
        return kinds[self.kind] | (0o777 if self.kind == "symlink" else self.mode)


IMPLIED_DIR = Entry("dir", DIR_MODE)  # a directory the tar implies without an entry of its own


class _Inflater:
    """Decompresses in pieces of at most BLOCK bytes, so a small upload cannot take a lot of
    memory at once (what it unpacks to goes to the spool file, a piece at a time)."""

    def __init__(self, head: bytes) -> None:
        self.zlib = zlib.decompressobj(wbits=31) if head.startswith(GZIP_MAGIC) else None
        self.between = False  # a gzip member ended: what follows may start another
        self.other: bz2.BZ2Decompressor | lzma.LZMADecompressor | None = None
        if head.startswith(b"BZh"):
            self.other = bz2.BZ2Decompressor()
        elif head.startswith(b"\xfd7zXZ\x00"):
            self.other = lzma.LZMADecompressor()
        self.pending = b""

    @property
    def plain(self) -> bool:
        return self.zlib is None and self.other is None

    def push(self, raw: bytes) -> None:
        self.pending += raw

    def pull(self) -> bytes:
        """The next piece; b"" when more input is needed."""
        if self.zlib is not None:
            return self._pull_gzip()
        assert self.other is not None
        if self.other.eof or (not self.pending and self.other.needs_input):
            return b""
        data, self.pending = self.other.decompress(self.pending, BLOCK), b""
        return data

    def _pull_gzip(self) -> bytes:
        """gzip's next piece, across members: a stream of several (pigz, concatenated gzip
        files) is one file, as Go's gzip reader and `gzip -d` read it."""
        while True:
            assert self.zlib is not None
            if self.zlib.eof and not self.between:
                self.pending, self.between = self.zlib.unused_data + self.pending, True
            if self.between:
                if len(self.pending) < len(GZIP_MAGIC):
                    return b""
                if not self.pending.startswith(GZIP_MAGIC):
                    self.pending = b""  # padding after the last member: ignored, as gzip does
                    return b""
                self.zlib, self.between = zlib.decompressobj(wbits=31), False
            data = self.zlib.decompress(self.pending, BLOCK)
            self.pending = self.zlib.unconsumed_tail
            if data or not self.zlib.eof:
                return data  # b"": more input needed


class Indexer:
    """Takes the upload's pieces in order: uncompresses them, writes them to `spool` and
    indexes the tar (tarscan.py) as it goes."""

    def __init__(self, spool: IO[bytes]) -> None:
        self.spool = spool
        self.entries: dict[str, Entry] = {}
        self.scanner = TarScanner(lambda m: _add(m, self.entries))
        self._inflater: _Inflater | None = None
        self._head = b""  # the first bytes, until there are enough to tell the compression

    def push(self, raw: bytes) -> None:
        if self.scanner.ended:
            return  # what follows the archive's end is neither spooled nor read
        if self._inflater is None:
            self._head += raw
            if len(self._head) < MAGIC:
                return
            raw, self._head = self._head, b""
            self._inflater = _Inflater(raw)
        if self._inflater.plain:
            self._take(raw)
            return
        self._inflater.push(raw)
        try:
            while (data := self._inflater.pull()) and not self.scanner.ended:
                self._take(data)
        except (zlib.error, lzma.LZMAError, OSError, EOFError) as exc:
            raise InvalidParameter(f"failed to read the build context: {exc}") from None

    def _take(self, data: bytes) -> None:
        self.spool.write(data)
        self.scanner.push(data)

    def finish(self) -> ContextIndex:
        """The upload ended: the index (InvalidParameter for a truncated or bad tar)."""
        if self._head:
            self._inflater = _Inflater(self._head)
            self._take(self._head)
        self.scanner.finish()
        return _completed(self.entries)


class SpoolingReader:
    """The upload as `pull` hands it out (b"" at its end), and the file it is spooled to."""

    def __init__(self, pull: Callable[[], bytes], spool: IO[bytes]) -> None:
        self.pull, self.spool = pull, spool

    def drain(self) -> None:
        """Read the rest of the upload (so its sender is never left waiting), e.g. after an
        error or the archive's end."""
        while self.pull():
            pass


def index_stream(reader: SpoolingReader) -> ContextIndex:
    """Blocking: index the whole upload, spooling it uncompressed. On an error the rest of
    the upload is left unread (`reader.drain()` takes it)."""
    indexer = Indexer(reader.spool)
    while data := reader.pull():
        indexer.push(data)
    return indexer.finish()


class ContextIndex:
    """The context's paths ('/'-separated, relative, no "." or ".."), after .dockerignore."""

    def __init__(self, entries: dict[str, Entry]) -> None:
        self.entries = entries
        self._memo: dict[Hashable, Any] = {}
        names: dict[str, set[str]] = {}
        todo = list(entries)
        while todo:
            path = todo.pop()
            parent, _, name = path.rpartition("/")
            if parent not in names and parent and parent not in entries:
                todo.append(parent)  # a directory only implied: listed all the same
            names.setdefault(parent, set()).add(name)
        self.children = {parent: sorted(kids) for parent, kids in names.items()}

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, once per `key` for this index: an index never changes, and a synced
        context (engine/builds/ctxsync.py) hands an unchanged one to the next build."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    def get(self, path: str) -> Entry | None:
        """The entry at `path`; a directory the tar only implies is a 0755 directory."""
        found = self.entries.get(path)
        if found is None and (path == "" or path in self.children):
            return IMPLIED_DIR
        return found

    def listdir(self, path: str) -> list[str]:
        return self.children.get(path, [])

    def resolve(self, path: str, follow_last: bool = False) -> str | None:
        """`path` with symlinks followed inside the context (an absolute target or `..`
        stops at its root, as in a container); None when a component does not exist."""
        parts = [p for p in path.split("/") if p not in ("", ".")]
        done: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                done = done[:-1]
                continue
            here = "/".join([*done, part])
            entry = self.get(here)
            if entry is None:
                return None
            if entry.kind == "symlink" and (parts or follow_last):
                hops += 1
                if hops > MAX_LINKS:
                    raise InvalidParameter(f"too many levels of symbolic links in {path}")
                done = [] if entry.target.startswith("/") else done
                parts = [p for p in entry.target.split("/") if p not in ("", ".")] + parts
                continue
            if parts and entry.kind != "dir":
                return None
            done.append(part)
        return "/".join(done)

    def walk(self, top: str) -> Iterator[str]:
        """Every path below directory `top` (not `top` itself), parents before children."""
        for name in self.listdir(top):
            path = posixpath.join(top, name) if top else name
            yield path
            yield from self.walk(path)

    def pruned(self, patterns: list[Pattern]) -> ContextIndex:
        """What .dockerignore leaves: as `context.prune` does on disk, an excluded directory
        stays only when an exception could re-include something below it."""
        if not patterns:
            return self
        return self.memo(("pruned", tuple(patterns)), lambda: self._pruned(patterns))

    def _pruned(self, patterns: list[Pattern]) -> ContextIndex:
        kept: dict[str, Entry] = {}
        for path in sorted(self.entries):  # parents first
            up = path.rpartition("/")[0]
            while up and up not in self.entries:
                up = up.rpartition("/")[0]  # an implied directory: its parent decides
            if up and up not in kept:
                continue  # below a directory that went (and took what was below it)
            entry = self.entries[path]
            if not is_ignored(patterns, path) or (
                entry.kind == "dir" and may_reinclude_below(patterns, path)
            ):
                kept[path] = entry
        return ContextIndex(kept)


def merged(upload: ContextIndex, base: int, kept: Mapping[str, Entry]) -> ContextIndex:
    """A synced context (engine/builds/ctxsync.py): the files the daemon `kept` from earlier
    uploads and what this `upload` brought, its files' bytes `base` bytes into the same spool.
    An uploaded path wins over a kept one."""
    entries = dict(kept)
    for path, entry in upload.entries.items():
        entries[path] = (
            replace(entry, offset=entry.offset + base) if entry.kind == "file" else entry
        )
    return _completed(entries)


def _completed(entries: dict[str, Entry]) -> ContextIndex:
    """The index of `entries` once their parents are known to be directories (nothing is
    ever written through a link or a file) and the implied ones are added."""
    parents: dict[str, str] = {}  # a parent directory -> a path below it
    for path in list(entries):
        up = path.rpartition("/")[0]
        while up and up not in parents:
            parents[up] = path
            up = up.rpartition("/")[0]
    for up, below in parents.items():
        entry = entries.setdefault(up, IMPLIED_DIR)
        if entry.kind != "dir":
            raise InvalidParameter(
                f"failed to read the build context: {below} is below the {entry.kind} {up}"
            )
    return ContextIndex(entries)


def clean_name(name: str) -> str:
    """A member name as a context path ("" for the root); InvalidParameter when it leaves."""
    path = posixpath.normpath(name.lstrip("/")) if name.strip("/") else "."
    if path == ".." or path.startswith("../"):
        raise InvalidParameter(f"failed to read the build context: {name} is outside the context")
    return "" if path == "." else path


def _add(scanned: Scanned, entries: dict[str, Entry]) -> None:
    m = scanned.info
    path = clean_name(m.name)
    if not path or m.type not in (*tarfile.REGULAR_TYPES, tarfile.DIRTYPE,
                                  tarfile.SYMTYPE, tarfile.LNKTYPE):  # fmt: skip
        return  # the root itself; devices and fifos never enter the context
    mode, uid, gid, mtime = m.mode & 0o755, m.uid, m.gid, float(m.mtime)
    if m.isdir():
        entries[path] = Entry("dir", mode, uid, gid, mtime)
    elif m.issym():
        entries[path] = Entry("symlink", 0o777, uid, gid, mtime, target=m.linkname)
    elif m.islnk():
        entries[path] = _hardlink(path, m.linkname, Entry("file", mode, uid, gid, mtime), entries)
    else:
        entries[path] = Entry("file", mode, uid, gid, mtime, m.size, scanned.offset, scanned.digest)


def _hardlink(path: str, link: str, base: Entry, entries: dict[str, Entry]) -> Entry:
    target = entries.get(clean_name(link))
    if target is None or target.kind != "file":
        raise InvalidParameter(
            f"failed to read the build context: hard link {path} to {link}: no such file before it"
        )
    return replace(target, mode=base.mode, uid=base.uid, gid=base.gid, mtime=base.mtime)


def read_file(spool: IO[bytes], entry: Entry) -> bytes:
    """A file's bytes from the spool."""
    spool.seek(entry.offset)
    return spool.read(entry.size)
