"""Docker's multiplexed stream framing (attach, logs, exec without a TTY), sans-IO.

Each frame: 1 byte stream id (0 stdin, 1 stdout, 2 stderr, 3 systemerr), 3 zero bytes, a
big-endian uint32 length, then that many bytes. With a TTY the stream is raw (no frames).
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

STDIN, STDOUT, STDERR, SYSTEMERR = 0, 1, 2, 3
_HEADER = struct.Struct(">BxxxL")


class FrameError(Exception):
    """The stream is not framed the way Docker frames it."""


def frame(stream: int, data: bytes) -> bytes:
    """One frame, as the daemon writes it."""
    return _HEADER.pack(stream, len(data)) + data


class FrameDecoder:
    """Feed bytes as they arrive; get back complete (stream, payload) pairs."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        out: list[tuple[int, bytes]] = []
        while len(self._buf) >= _HEADER.size:
            stream, length = _HEADER.unpack_from(self._buf)
            if stream > SYSTEMERR:
                raise FrameError(f"unknown stream id {stream} in frame header")
            end = _HEADER.size + length
            if len(self._buf) < end:
                break
            out.append((stream, bytes(self._buf[_HEADER.size : end])))
            del self._buf[:end]
        return out

    @property
    def partial(self) -> bool:
        """True when a frame was cut off (the stream ended mid-frame)."""
        return bool(self._buf)


def demux(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Frames out of a chunked body; raises FrameError if the stream ends mid-frame."""
    decoder = FrameDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    if decoder.partial:
        raise FrameError("stream ended in the middle of a frame")
