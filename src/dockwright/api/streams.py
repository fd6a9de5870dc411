"""Docker's stream encodings: the 8-byte multiplexed frame header and JSON progress lines.

Frame layout (non-TTY attach, exec and logs)::

    byte 0     stream id: 0 stdin, 1 stdout, 2 stderr (3 = systemerr in newer daemons)
    bytes 1-3  zero
    bytes 4-7  payload length, big-endian uint32
    payload

With a TTY the stream is raw: no header at all, which is why nothing here is applied implicitly.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from dockwright.errors import InvalidParameter

STDIN = 0
STDOUT = 1
STDERR = 2
SYSTEMERR = 3

_HEADER = struct.Struct(">BxxxL")
HEADER_SIZE = _HEADER.size


def frame(stream: int, data: bytes) -> bytes:
    """One multiplexed frame carrying `data` on `stream` (payloads up to 4 GiB)."""
    if not 0 <= stream <= SYSTEMERR:
        raise InvalidParameter(f"invalid stream id {stream}")
    return _HEADER.pack(stream, len(data)) + data


def json_line(obj: Any) -> bytes:
    """One JSON message of a progress stream, newline-terminated like Docker's streamformatter."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\r\n"


class FrameParser:
    """Incremental decoder of multiplexed frames (the client side of `frame`).

    Feed it bytes as they arrive; it returns every complete frame and keeps the remainder.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Append `data`; return the complete (stream, payload) frames in order."""
        self._buf += data
        frames: list[tuple[int, bytes]] = []
        while len(self._buf) >= HEADER_SIZE:
            stream, size = _HEADER.unpack_from(self._buf)
            if stream > SYSTEMERR:
                raise InvalidParameter(f"invalid stream id {stream} in frame header")
            end = HEADER_SIZE + size
            if len(self._buf) < end:
                break
            frames.append((stream, bytes(self._buf[HEADER_SIZE:end])))
            del self._buf[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes held back because their frame is not complete yet."""
        return len(self._buf)
