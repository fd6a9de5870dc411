"""How `dockwright build --ssh` forwards SSH agents to the daemon (a dockwright extension). Pure.

docs/build-ssh.md tells the whole protocol. Two pieces are shared by the client and the daemon:
- the request header of `POST /build` naming the forwarding session and the agent ids the
  client serves: `X-Dockwright-Build-Ssh: <session> <id> [<id>…]`;
- the framing on the upgraded `POST /build/ssh?session=<session>` connection: every frame is a
  big-endian uint32 stream id, a uint8 kind (OPEN, DATA, CLOSE) and a uint32 length, then that
  many bytes. The daemon OPENs one stream per connection a RUN step makes to its agent socket
  (payload: the agent id); DATA carries agent protocol bytes either way; CLOSE (either way)
  ends the stream for both sides, and a CLOSE for an unknown stream is ignored.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from dockwright.errors import InvalidParameter

HEADER = "X-Dockwright-Build-Ssh"
OPEN, DATA, CLOSE = 1, 2, 3
KINDS = (OPEN, DATA, CLOSE)
MAX_PAYLOAD = 256 * 1024  # OpenSSH's agent message limit; one message fits one frame
DEFAULT_ID = "default"
_FRAME = struct.Struct(">IBI")
_SESSION = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_ID = re.compile(r"^[A-Za-z0-9_.+/-]+$")


@dataclass(frozen=True)
class SshForward:
    """The agents a build's client forwards: its session and the ids it serves."""

    session: str
    ids: tuple[str, ...]


def check_session(session: str) -> str:
    """A session id: 16 to 128 letters, digits, `_` or `-` (the client draws it at random)."""
    if not _SESSION.match(session):
        raise InvalidParameter(f"invalid ssh session id {session!r}")
    return session


def check_id(agent_id: str) -> str:
    """An agent id (`--ssh <id>=…`): letters, digits and `_ . + - /`."""
    if not _ID.match(agent_id):
        raise InvalidParameter(f"invalid ssh agent id {agent_id!r}")
    return agent_id


def encode(forward: SshForward) -> str:
    """The header value for `forward`."""
    check_session(forward.session)
    return " ".join([forward.session, *(check_id(i) for i in forward.ids)])


def decode(value: str | None) -> SshForward | None:
    """The forward a header value names (None for None or ""); InvalidParameter on junk."""
    if not value:
        return None
    session, *ids = value.split()
    if not ids:
        raise InvalidParameter(f"invalid {HEADER}: no agent ids")
    return SshForward(check_session(session), tuple(check_id(i) for i in ids))


class FrameError(ValueError):
    """The peer does not frame its stream as docs/build-ssh.md says."""


def frame(stream: int, kind: int, payload: bytes = b"") -> bytes:
    """One frame."""
    if len(payload) > MAX_PAYLOAD:
        raise FrameError(f"frame payload too large: {len(payload)} bytes")
    return _FRAME.pack(stream, kind, len(payload)) + payload


class FrameDecoder:
    """Feed bytes as they arrive; get back the complete (stream, kind, payload) frames."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        self._buf += data
        frames = []
        while len(self._buf) >= _FRAME.size:
            stream, kind, length = _FRAME.unpack_from(self._buf)
            if kind not in KINDS or length > MAX_PAYLOAD:
                raise FrameError(f"bad frame: kind {kind}, length {length}")
            end = _FRAME.size + length
            if len(self._buf) < end:
                break
            frames.append((stream, kind, bytes(self._buf[_FRAME.size : end])))
            del self._buf[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of a frame not complete yet (non-zero at EOF: the peer cut a frame)."""
        return len(self._buf)
