"""`dockwright build` of a directory syncs its context (engine/builds/ctxsync.py): a rebuild
uploads only what changed, and the image always has the directory's current files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from cli_e2e import dockwright
from tests.integration.conftest import UnixHTTPConnection

from dockwright.cli.buildsync import context_key

pytestmark = pytest.mark.integration

DOCKERFILE = """FROM busybox
COPY big.bin /big.bin
COPY app/ /app/
RUN cat /app/* > /all.txt
"""


def _sent(out: str) -> float:
    """The bytes `Sending build context` reported."""
    found = re.search(r"Sending build context to Docker daemon\s+([\d.]+)([kMG]?B)", out)
    assert found, out
    return float(found[1]) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[found[2]]


def _build(daemon, ctx: Path, tag: str):  # type: ignore[no-untyped-def]
    result = dockwright(daemon.host, "build", "-t", tag, str(ctx))
    assert result.status == 0, result
    return result


def test_a_rebuild_uploads_only_what_changed(daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = tmp_path / "ctx"
    (ctx / "app").mkdir(parents=True)
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "big.bin").write_bytes(os.urandom(1 << 20))
    (ctx / "app" / "a.txt").write_text("one\n")
    (ctx / "app" / "b.txt").write_text("two\n")
    first = _build(daemon, ctx, "dwt-sync:1")
    assert _sent(first.out) > 1_000_000
    again = _build(daemon, ctx, "dwt-sync:2")
    assert _sent(again.out) < 20_000  # directories only
    assert again.out.count("Using cache") == 3

    (ctx / "app" / "b.txt").write_text("TWO\n")  # same size, new bytes
    changed = _build(daemon, ctx, "dwt-sync:3")
    assert _sent(changed.out) < 20_000
    assert changed.out.count("Using cache") == 1  # COPY big.bin only
    out = dockwright(daemon.host, "run", "--rm", "dwt-sync:3", "cat", "/all.txt")
    assert out.out == "one\nTWO\n", out

    (ctx / "app" / "a.txt").unlink()
    (ctx / "app" / "c.txt").write_text("three\n")
    _build(daemon, ctx, "dwt-sync:4")
    out = dockwright(daemon.host, "run", "--rm", "dwt-sync:4", "ls", "/app")
    assert out.out.split() == ["b.txt", "c.txt"], out
    dockwright(daemon.host, "rmi", "dwt-sync:1", "dwt-sync:2", "dwt-sync:3", "dwt-sync:4")


def test_a_stdin_dockerfile_and_ignore_rules_still_apply(daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "keep.txt").write_text("kept\n")
    (ctx / "skip.txt").write_text("skipped\n")
    (ctx / ".dockerignore").write_text("skip.txt\n")
    dockerfile = "FROM busybox\nCOPY . /ctx/\n"
    for _ in range(2):  # the second run is synced against the first
        result = dockwright(daemon.host, "build", "-q", "-t", "dwt-sync:stdin", "-f", "-", str(ctx),
                            stdin=dockerfile)  # fmt: skip
        assert result.status == 0, result
        out = dockwright(daemon.host, "run", "--rm", "dwt-sync:stdin", "ls", "-A", "/ctx")
        assert out.out.split() == [".dockerignore", "keep.txt"], out
    dockwright(daemon.host, "rmi", "dwt-sync:stdin")


def test_a_build_naming_an_unknown_session_fails_cleanly(daemon) -> None:  # type: ignore[no-untyped-def]
    conn = UnixHTTPConnection(str(daemon.socket))
    headers = {"Content-Type": "application/x-tar", "X-Dockwright-Context-Session": "nope"}
    conn.request("POST", "/v1.45/build?t=dwt-sync:bad", body=b"\0" * 1024, headers=headers)
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    assert "unknown or used context session 'nope'" in body, (resp.status, body)
    conn = UnixHTTPConnection(str(daemon.socket))
    conn.request("POST", "/v1.45/build/context", body=json.dumps({"Key": "../x", "Files": {}}),
                 headers={"Content-Type": "application/json"})  # fmt: skip
    resp = conn.getresponse()
    assert resp.status == 400 and "invalid context key" in resp.read().decode()
    conn.close()


def test_kept_contexts_show_in_df_and_go_with_builder_prune(daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY data.bin /\n")
    (ctx / "data.bin").write_bytes(os.urandom(300_000))
    _build(daemon, ctx, "dwt-sync:df")
    df = dockwright(daemon.host, "system", "df", "-v", "--format", "{{json .BuildCache}}")
    kept = [r for r in json.loads(df.out) if r["ID"] == context_key(str(ctx))]
    assert len(kept) == 1, df.out
    assert (kept[0]["CacheType"], kept[0]["Description"]) == (
        "source.local",
        "local source for context",
    )
    pruned = dockwright(daemon.host, "builder", "prune", "-f", "--filter", "type=source.local",
                        "--filter", f"id={kept[0]['ID']}")  # fmt: skip
    assert pruned.status == 0 and pruned.out.split("\n")[1] == kept[0]["ID"], pruned
    assert "Total reclaimed space: 30" in pruned.out  # the spool: 300 kB and the tar's headers
    assert _sent(_build(daemon, ctx, "dwt-sync:df").out) > 300_000  # everything once more
    dockwright(daemon.host, "rmi", "dwt-sync:df")
