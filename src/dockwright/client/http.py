"""A small HTTP/1.1 client over one stream socket (unix or tcp).

Why not http.client: importing it costs more than the whole CLI's budget (it pulls in email and
ssl), and it cannot hand the socket over after `101 UPGRADED` for attach/exec. This module does
what the Engine API needs and nothing more: requests with a fixed or chunked body, responses with
Content-Length, chunked or read-to-close bodies, and keep-alive.
"""

from __future__ import annotations

TYPE_CHECKING = False  # on the CLI's hot path: no typing/dataclasses/socket imports at run time
if TYPE_CHECKING:
    import socket
    from collections.abc import Iterable, Iterator

MAX_HEADER = 64 * 1024
READ_SIZE = 64 * 1024


class ProtocolError(OSError):
    """The peer did not speak HTTP/1.1 as expected (or closed the connection mid-message)."""


class BufferedSocket:
    """A socket with a read buffer; what is buffered but unread survives a hijack."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(READ_SIZE)
        self.buf += data
        return bool(data)

    def read_line(self) -> bytes:
        """One CRLF-terminated line without its terminator."""
        while (i := self.buf.find(b"\r\n")) < 0:
            if len(self.buf) > MAX_HEADER:
                raise ProtocolError("header line too long")
            if not self._fill():
                raise ProtocolError("connection closed by the daemon")
        line = bytes(self.buf[:i])
        del self.buf[: i + 2]
        return line

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ProtocolError("connection closed mid-body")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_some(self, n: int = READ_SIZE) -> bytes:
        """Up to `n` bytes: buffered ones first, else one recv; b"" at EOF."""
        if not self.buf:
            return self.sock.recv(n)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def take_buffer(self) -> bytes:
        data = bytes(self.buf)
        self.buf.clear()
        return data


class Head:
    """Status line and headers of a response (header names lower-cased)."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers if headers is not None else {}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def parse_status_line(line: bytes) -> tuple[int, str]:
    parts = line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line: {line[:80]!r}")
    return int(parts[1]), parts[2] if len(parts) > 2 else ""


def read_head(bs: BufferedSocket) -> Head:
    """Read a response head, skipping `100 Continue` interim responses."""
    while True:
        status, reason = parse_status_line(bs.read_line())
        headers: dict[str, str] = {}
        while line := bs.read_line():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if status != 100:
            return Head(status, reason, headers)


def encode_request(method: str, target: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def send_request(
    bs: BufferedSocket,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes | Iterable[bytes] | None = None,
) -> None:
    """Send one request; an iterable body goes out chunked, bytes with Content-Length."""
    headers = dict(headers)
    if isinstance(body, bytes | bytearray):
        headers["Content-Length"] = str(len(body))
        bs.sock.sendall(encode_request(method, target, headers) + bytes(body))
        return
    if body is None:
        if method in ("POST", "PUT"):
            headers["Content-Length"] = "0"
        bs.sock.sendall(encode_request(method, target, headers))
        return
    headers["Transfer-Encoding"] = "chunked"
    bs.sock.sendall(encode_request(method, target, headers))
    for chunk in body:
        if chunk:
            bs.sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    bs.sock.sendall(b"0\r\n\r\n")


def iter_chunked(bs: BufferedSocket) -> Iterator[bytes]:
    """Decode a chunked body as it arrives (chunk extensions and trailers ignored)."""
    while True:
        size_line = bs.read_line().split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError as exc:
            raise ProtocolError(f"bad chunk size: {size_line[:20]!r}") from exc
        if size == 0:
            while bs.read_line():
                pass
            return
        remaining = size
        while remaining:
            data = bs.read_some(remaining)
            if not data:
                raise ProtocolError("connection closed mid-chunk")
            remaining -= len(data)
            yield data
        bs.read_exact(2)


def iter_length(bs: BufferedSocket, length: int) -> Iterator[bytes]:
    while length > 0:
        data = bs.read_some(min(length, READ_SIZE))
        if not data:
            raise ProtocolError("connection closed mid-body")
        length -= len(data)
        yield data


def iter_until_close(bs: BufferedSocket) -> Iterator[bytes]:
    while data := bs.read_some():
        yield data


def body_framing(head: Head, method: str) -> tuple[str, int]:
    """How the body is delimited: ("none"|"length"|"chunked"|"close", length)."""
    if method == "HEAD" or head.status in (204, 304) or 100 <= head.status < 200:
        return "none", 0
    if "chunked" in (head.get("transfer-encoding") or "").lower():
        return "chunked", 0
    length = head.get("content-length")
    if length is not None:
        return "length", int(length)
    return "close", 0


def iter_body(bs: BufferedSocket, head: Head, method: str) -> Iterator[bytes]:
    kind, length = body_framing(head, method)
    if kind == "chunked":
        return iter_chunked(bs)
    if kind == "length":
        return iter_length(bs, length)
    if kind == "close":
        return iter_until_close(bs)
    return iter(())


def reusable(head: Head, method: str) -> bool:
    """Whether the connection may carry another request after this response is read."""
    if (head.get("connection") or "").lower() == "close":
        return False
    return body_framing(head, method)[0] != "close"
