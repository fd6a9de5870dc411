"""Request/Response helpers, driven through a fake channel (no sockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

import pytest

from dockwright.api.http import (
    Headers,
    Hijacked,
    Query,
    Request,
    Response,
    StreamWriter,
    json_response,
    no_content,
    text_response,
)
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit


class FakeChannel:
    """Serves a body from a list of chunks and records what the handler asked for."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.calls: list[tuple[object, ...]] = []

    async def receive(self) -> bytes | None:
        return self.chunks.pop(0) if self.chunks else None

    async def hijack(self, content_type: str) -> Hijacked:
        self.calls.append(("hijack", content_type))
        raise NotImplementedError

    async def start_stream(
        self, status: int, content_type: str, headers: Mapping[str, str] | None
    ) -> StreamWriter:
        self.calls.append(("stream", status, content_type, headers))
        raise NotImplementedError

    async def disconnected(self) -> None:
        self.calls.append(("disconnected",))


def request(query: str = "", chunks: list[bytes] | None = None) -> tuple[Request, FakeChannel]:
    channel = FakeChannel(chunks or [])
    req = Request(
        "POST",
        "/x",
        version=(1, 45),
        params={},
        headers=Headers([("Content-Type", "application/json")]),
        query=Query(query),
        channel=channel,
    )
    return req, channel


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("force=1", True),
        ("force=true", True),
        ("force=True", True),
        ("force=yes", True),
        ("force=0", False),
        ("force=false", False),
        ("force=False", False),
        ("force=", False),
        ("force=no", False),
        ("force=none", False),
        ("", None),
    ],
)
def test_query_bool_follows_docker_truthiness(raw, expected):
    q = Query(raw)
    if expected is None:
        assert q.bool("force") is False
        assert q.bool("force", default=True) is True
    else:
        assert q.bool("force") is expected
        assert q.bool("force", default=not expected) is expected


def test_query_get_getall_and_contains():
    q = Query("a=1&a=2&b=&c=x%20y&d=%7B%7D")
    assert q.get("a") == "1"
    assert q.getall("a") == ["1", "2"]
    assert q.get("b") == ""
    assert q.get("c") == "x y"
    assert q.get("missing") is None
    assert q.get("missing", "dflt") == "dflt"
    assert q.getall("missing") == []
    assert "b" in q and "missing" not in q


def test_query_int():
    q = Query("t=10&neg=-3&empty=&junk=ten")
    assert q.int("t") == 10
    assert q.int("neg") == -3
    assert q.int("empty", 7) == 7
    assert q.int("missing") is None
    with pytest.raises(InvalidParameter, match="junk"):
        q.int("junk")


def test_query_json_for_filters():
    q = Query('filters={"label":{"a=b":true}}&bad={x')
    assert q.json("filters") == {"label": {"a=b": True}}
    assert q.json("missing", {}) == {}
    with pytest.raises(InvalidParameter, match="bad"):
        q.json("bad")


def test_headers_case_insensitive_and_joined():
    h = Headers([("X-A", "1"), ("x-a", "2"), ("Host", "h")])
    assert h.get("x-a") == "1, 2"
    assert h.get("HOST") == "h"
    assert h.get("nope") is None
    assert "Host" in h and "nope" not in h


def test_body_json_and_stream():
    req, _ = request(chunks=[b'{"Image":', b"", b' "busybox"}'])
    assert run(req.json()) == {"Image": "busybox"}
    assert run(req.body()) == b'{"Image": "busybox"}'  # cached after the first read

    req, _ = request(chunks=[b"ab", b"", b"cd"])

    async def collect():
        return [c async for c in req.stream()]

    assert run(collect()) == [b"ab", b"cd"]  # empty pieces are not yielded


def test_json_of_empty_body_is_none_and_bad_json_is_invalid_parameter():
    req, _ = request(chunks=[])
    assert run(req.json()) is None
    req, _ = request(chunks=[b"  \n"])
    assert run(req.json()) is None
    req, _ = request(chunks=[b"{nope"])
    with pytest.raises(InvalidParameter, match="invalid json"):
        run(req.json())


def test_takeovers_go_to_the_channel():
    req, channel = request()
    with pytest.raises(NotImplementedError):
        run(req.hijack("application/vnd.docker.multiplexed-stream"))
    with pytest.raises(NotImplementedError):
        run(req.start_stream(headers={"X": "1"}))
    run(req.disconnected())
    assert channel.calls == [
        ("hijack", "application/vnd.docker.multiplexed-stream"),
        ("stream", 200, "application/json", {"X": "1"}),
        ("disconnected",),
    ]


def test_response_helpers():
    r = json_response({"Id": "é"}, 201, {"X": "1"})
    assert r == Response(201, '{"Id":"é"}\n'.encode(), "application/json", {"X": "1"})
    assert json.loads(r.body) == {"Id": "é"}
    assert no_content() == Response(204)
    assert text_response("OK") == Response(200, b"OK", "text/plain; charset=utf-8")
