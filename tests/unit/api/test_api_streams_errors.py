from __future__ import annotations

import json

import pytest

from dockwright.api.errors import error_response, message_for, status_for
from dockwright.api.router import MethodNotAllowed
from dockwright.api.streams import FrameParser, frame, json_line
from dockwright.errors import (
    Conflict,
    DockwrightError,
    Forbidden,
    InvalidParameter,
    NotFound,
    NotImplementedYet,
    NotModified,
    SystemError_,
    Unauthorized,
    Unavailable,
)

pytestmark = pytest.mark.unit


def test_frame_header_layout():
    assert frame(1, b"hi") == b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    assert frame(2, b"") == b"\x02\x00\x00\x00\x00\x00\x00\x00"
    big = b"x" * 70000
    assert frame(0, big)[:8] == b"\x00\x00\x00\x00\x00\x01\x11\x70"
    with pytest.raises(InvalidParameter, match="stream id 7"):
        frame(7, b"x")


def test_frame_parser_roundtrip_across_arbitrary_splits():
    wire = frame(1, b"out") + frame(2, b"err" * 1000) + frame(1, b"")
    for cut in (1, 3, 7, 8, 9, 500):
        parser = FrameParser()
        got = []
        for i in range(0, len(wire), cut):
            got += parser.feed(wire[i : i + cut])
        assert got == [(1, b"out"), (2, b"err" * 1000), (1, b"")]
        assert parser.pending == 0


def test_frame_parser_holds_incomplete_frames_and_rejects_bad_ids():
    parser = FrameParser()
    assert parser.feed(frame(1, b"abc")[:-1]) == []
    assert parser.pending == 10
    assert parser.feed(b"c") == [(1, b"abc")]
    with pytest.raises(InvalidParameter, match="stream id 9"):
        FrameParser().feed(b"\x09\x00\x00\x00\x00\x00\x00\x00")


def test_json_line():
    line = json_line({"status": "Pulling", "id": "é"})
    assert line.endswith(b"\r\n")
    assert json.loads(line) == {"status": "Pulling", "id": "é"}


class CustomNotFound(NotFound):
    pass


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (NotFound("no such container: x"), 404),
        (CustomNotFound("sub"), 404),
        (InvalidParameter("bad"), 400),
        (Conflict("in use"), 409),
        (NotModified("already started"), 304),
        (Unauthorized("who"), 401),
        (Forbidden("no"), 403),
        (Unavailable("down"), 503),
        (NotImplementedYet("later"), 501),
        (MethodNotAllowed("no", ["GET"]), 405),
        (SystemError_("mount failed"), 500),
        (DockwrightError("plain"), 500),
        (RuntimeError("boom"), 500),
    ],
)
def test_error_table(exc, status):
    assert status_for(exc) == status


def test_error_response_bodies():
    r = error_response(NotFound("no such container: web"))
    assert (r.status, r.content_type) == (404, "application/json")
    assert json.loads(r.body) == {"message": "no such container: web"}
    assert error_response(NotModified("container already started")).body == b""
    assert error_response(MethodNotAllowed("no", ["GET", "HEAD"])).headers == {"Allow": "GET, HEAD"}
    assert json.loads(error_response(KeyError()).body) == {"message": "KeyError"}


def test_message_for():
    assert message_for(Conflict("name in use")) == "name in use"
    assert message_for(DockwrightError()) == "DockwrightError"
    assert message_for(ValueError("bad value")) == "bad value"
