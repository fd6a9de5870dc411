"""Docker frame demultiplexing and the detach-key escape proxy."""

from __future__ import annotations

import pytest

from dockwright.cli.escape import EscapeProxy, parse_detach_keys
from dockwright.client.frames import FrameDecoder, FrameError, demux, frame

pytestmark = pytest.mark.unit


def test_frames_split_across_chunks() -> None:
    data = frame(1, b"hello\n") + frame(2, b"oops\n") + frame(1, b"")
    decoder = FrameDecoder()
    got = []
    for i in range(0, len(data), 3):
        got += decoder.feed(data[i : i + 3])
    assert got == [(1, b"hello\n"), (2, b"oops\n"), (1, b"")]
    assert not decoder.partial


def test_frame_header_layout() -> None:
    assert frame(2, b"abc") == b"\x02\x00\x00\x00\x00\x00\x00\x03abc"


def test_truncated_stream_is_an_error() -> None:
    with pytest.raises(FrameError):
        list(demux([frame(1, b"hello")[:-2]]))


def test_bad_stream_id() -> None:
    with pytest.raises(FrameError):
        FrameDecoder().feed(b"\x09\x00\x00\x00\x00\x00\x00\x01x")


def test_detach_key_notation() -> None:
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("ctrl-@,a") == b"\x00a"
    with pytest.raises(Exception, match="unknown character"):
        parse_detach_keys("ctrl-pp")


def test_escape_proxy_detaches() -> None:
    proxy = EscapeProxy(b"\x10\x11")
    assert proxy.feed(b"ls\x10") == (b"ls", False)
    assert proxy.feed(b"\x11") == (b"", True)


def test_escape_proxy_releases_a_broken_sequence() -> None:
    proxy = EscapeProxy(b"\x10\x11")
    assert proxy.feed(b"\x10x") == (b"\x10x", False)
    assert proxy.feed(b"\x10\x10\x11") == (b"\x10", True)
