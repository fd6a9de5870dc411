"""A tar reader fed in pieces: each member's header, where its data starts, and its sha256.

tarfile's stream mode reads a member's data through several layers of small buffered reads;
for a context of thousands of small files that costs ten times the hashing itself. This walks
the stream once: headers are parsed by `tarfile.TarInfo.frombuf` (checksums, number formats,
ustar prefixes), pax and GNU long-name records are applied to the next member, and file data is
hashed straight from the pieces pushed in, never copied. Pure (no I/O).

What tarfile accepts, this accepts, except sparse files (refused). The archive ends at its
first zero block or at the end of the stream on a member boundary; anything else is an error.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Callable
from dataclasses import dataclass

from dockwright.errors import InvalidParameter

BLOCK = 512
META_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
SUPPORTED = (*tarfile.REGULAR_TYPES, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
             tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE)  # fmt: skip
MAX_META = 1 << 20  # bytes of one pax or long-name record


@dataclass(frozen=True)
class Scanned:
    """One member: its header (pax and GNU names applied), data offset and sha256 hex
    (regular files only)."""

    info: tarfile.TarInfo
    offset: int
    digest: str


def _fail(reason: str) -> InvalidParameter:
    return InvalidParameter(f"failed to read the build context: {reason}")


class TarScanner:
    """`push` the tar's bytes in order; `on_member` is called with each member once its data
    has gone by; `finish` at the end of the stream."""

    def __init__(self, on_member: Callable[[Scanned], None]) -> None:
        self.on_member = on_member
        self.ended = False
        self.offset = 0  # stream position of the next byte pushed
        self._pending = bytearray()  # a header or a meta record being collected
        self._want = BLOCK
        self._meta_type = b""
        self._meta_size = 0
        self._data = 0  # data bytes of the current member still to come
        self._skip = 0  # padding (or unused data) still to come
        self._member: tarfile.TarInfo | None = None
        self._start = 0
        self._hash: hashlib._Hash | None = None
        self._pax: dict[str, str] = {}
        self._global: dict[str, str] = {}
        self._long: dict[bytes, str] = {}

    def push(self, data: bytes) -> None:
        view, i, n = memoryview(data), 0, len(data)
        while i < n and not self.ended:
            if self._data:
                take = min(self._data, n - i)
                if self._hash is not None:
                    self._hash.update(view[i : i + take])
                self._data -= take
            elif self._skip:
                take = min(self._skip, n - i)
                self._skip -= take
            else:
                take = min(self._want - len(self._pending), n - i)
                self._pending += view[i : i + take]
            i += take
            self.offset += take
            self._step()

    def _step(self) -> None:
        """Act on what is now complete: a member's data, or a header or record."""
        if self._member is not None and not self._data:
            self._emit()
        elif not self._data and not self._skip and len(self._pending) == self._want:
            self._complete()

    def finish(self) -> None:
        """The stream ended: refused unless it ended on a member boundary."""
        if self.ended:
            return
        if self.offset == 0:
            raise _fail("empty archive")
        if self._data or self._pending or self._meta_type or self._member is not None:
            raise _fail("unexpected end of data")

    def _complete(self) -> None:
        block, self._pending = bytes(self._pending), bytearray()
        if self._meta_type:
            self._meta(block)
        else:
            self._header(block)

    def _header(self, block: bytes) -> None:
        if block.count(0) == BLOCK:
            self.ended = True
            return
        try:
            info = _plain_header(block) or tarfile.TarInfo.frombuf(
                block, "utf-8", "surrogateescape"
            )
        except tarfile.HeaderError as exc:
            raise _fail(f"bad tar header at byte {self.offset - BLOCK + 1}: {exc}") from None
        if info.size < 0:
            raise _fail(f"bad tar header at byte {self.offset - BLOCK + 1}: negative size")
        if info.type in META_TYPES:
            if info.size > MAX_META:
                raise _fail(f"a {info.type.decode()} record of {info.size} bytes")
            self._meta_type, self._want = info.type, _padded(info.size)
            self._meta_size = info.size
            if not info.size:
                self._meta(b"")
            return
        self._start_member(info)

    def _start_member(self, info: tarfile.TarInfo) -> None:
        if info.type == tarfile.GNUTYPE_SPARSE or any(
            k.startswith("GNU.sparse") for k in self._pax
        ):
            raise _fail(f"{info.name} is a sparse file")
        _apply(info, {**self._global, **self._pax}, self._long)
        self._pax, self._long = {}, {}
        has_data = info.isreg() or info.type not in SUPPORTED
        self._member, self._start = info, self.offset
        self._hash = hashlib.sha256() if info.isreg() else None
        self._data = info.size if has_data else 0
        self._skip = _padded(info.size) - info.size if has_data else 0
        if not self._data:
            self._emit()

    def _emit(self) -> None:
        info, self._member = self._member, None
        assert info is not None
        digest = self._hash.hexdigest() if self._hash is not None else ""
        self._hash = None
        if info.type in SUPPORTED:
            self.on_member(Scanned(info, self._start, digest))

    def _meta(self, block: bytes) -> None:
        payload = block[: self._meta_size]
        kind, self._meta_type, self._want = self._meta_type, b"", BLOCK
        if kind in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK):
            self._long[kind] = payload.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        elif kind == tarfile.XGLTYPE:
            self._global.update(_pax_records(payload))
        else:
            self._pax.update(_pax_records(payload))


NUMBERS = ((100, 108), (108, 116), (116, 124), (124, 136), (136, 148), (148, 156))
USTAR = (b"ustar\x00", b"ustar ")


def _plain_header(block: bytes) -> tarfile.TarInfo | None:
    """The usual header (octal numbers, a checksum that adds up) read directly: tarfile's
    general parser costs more than hashing a small file. None leaves it to `frombuf`."""
    try:
        mode, uid, gid, size, mtime, check = (
            int(block[a:b].split(b"\0", 1)[0] or b"0", 8) for a, b in NUMBERS
        )
    except ValueError:
        return None
    if check != sum(block) - sum(block[148:156]) + 8 * 32:
        return None
    info = tarfile.TarInfo(_text(block[0:100]))
    info.mode, info.uid, info.gid, info.size, info.mtime = mode, uid, gid, size, mtime
    info.type, info.linkname = block[156:157] or tarfile.REGTYPE, _text(block[157:257])
    prefix = _text(block[345:500]) if block[257:263] == USTAR[0] else ""
    if prefix and info.type not in tarfile.GNU_TYPES:
        info.name = prefix + "/" + info.name
    if info.type == tarfile.AREGTYPE and info.name.endswith("/"):
        info.type = tarfile.DIRTYPE
    if info.type == tarfile.DIRTYPE:
        info.name = info.name.rstrip("/")
    return info


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _pax_records(payload: bytes) -> dict[str, str]:
    """`<length> <key>=<value>\\n` records."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(payload) and payload[pos] != 0:
        space = payload.find(b" ", pos)
        length = int(payload[pos:space]) if space > pos and payload[pos:space].isdigit() else 0
        record = payload[space + 1 : pos + length - 1] if length else b""
        if not length or pos + length > len(payload) or b"=" not in record:
            raise _fail("bad pax header")
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


def _apply(info: tarfile.TarInfo, pax: dict[str, str], long: dict[bytes, str]) -> None:
    """Long names and pax values override the header's fields."""
    if tarfile.GNUTYPE_LONGNAME in long:
        info.name = long[tarfile.GNUTYPE_LONGNAME]
    if tarfile.GNUTYPE_LONGLINK in long:
        info.linkname = long[tarfile.GNUTYPE_LONGLINK]
    try:
        if "path" in pax:
            info.name = pax["path"]
        if "linkpath" in pax:
            info.linkname = pax["linkpath"]
        for key in ("size", "uid", "gid"):
            if key in pax:
                setattr(info, key, int(pax[key]))
        if "mtime" in pax:
            info.mtime = float(pax["mtime"])
    except ValueError:
        raise _fail(f"bad pax value for {info.name}") from None
    if info.type == tarfile.AREGTYPE and info.name.endswith("/"):
        info.type = tarfile.DIRTYPE  # old tars mark directories by a trailing slash
