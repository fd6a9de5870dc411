"""The lazy build context against a real dockwrightd (functional, never timed): the context is
written out only where a step misses, a gzip upload keys like a plain one, hostile tars are
refused with nothing written outside, and a build's scratch directory goes after the build."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def tar_of(files: dict[str, bytes], extra: list[tarfile.TarInfo] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_600_000_000
            tf.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tf.addfile(info)
    return buf.getvalue()


def post_build(daemon, body: bytes, query: str = "") -> list[dict]:
    headers = {"Content-Type": "application/x-tar"}
    status, out = daemon.request("POST", f"/build?rm=1&{query}", body, headers)
    if status == 400:  # refused before the stream began
        return [{"error": json.loads(out)["message"]}]
    assert status == 200, out
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def image_id(messages: list[dict]) -> str:
    ids = [m["aux"]["ID"] for m in messages if "ID" in (m.get("aux") or {})]
    assert ids, messages
    return ids[-1]


def error_of(messages: list[dict]) -> str:
    return " ".join(m["error"] for m in messages if "error" in m)


def scratch(daemon) -> Path:
    return daemon.root / "data" / "builder"


def seen_while(daemon, work) -> tuple[set[str], object]:
    """Context paths present on the host at any moment while `work()` runs, and its result."""
    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for ctx in scratch(daemon).glob("build-*/context"):
                seen.update(str(p.relative_to(ctx)) for p in ctx.rglob("*"))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = work()
    finally:
        done.set()
        watcher.join()
    return seen, result


SLOW = b"FROM busybox\nCOPY a.txt /a\nRUN sleep 1.5\n"


def test_only_what_a_missed_step_copies_is_written_out(daemon):
    files = {"Dockerfile": SLOW, "a.txt": b"a\n", "big/b.bin": b"b" * 100_000}
    body = tar_of(files)
    seen, cold = seen_while(daemon, lambda: post_build(daemon, body, "nocache=1&t=lazy:1"))
    assert "a.txt" in seen and not any(p.startswith("big") for p in seen), seen
    assert "Dockerfile" not in seen  # read from the spooled tar
    seen, warm = seen_while(daemon, lambda: post_build(daemon, body))
    assert image_id(warm) == image_id(cold)
    assert seen == set()


def test_a_gzip_upload_hits_the_cache_of_a_plain_one(daemon):
    files = {"Dockerfile": b"FROM busybox\nCOPY . /ctx/\n", "x/y.txt": b"y\n"}
    plain = post_build(daemon, tar_of(files), "nocache=1")
    zipped = post_build(daemon, gzip.compress(tar_of(files)))
    assert image_id(zipped) == image_id(plain)
    assert any("Using cache" in m.get("stream", "") for m in zipped)
    files["x/y.txt"] = b"changed\n"
    assert image_id(post_build(daemon, gzip.compress(tar_of(files)))) != image_id(plain)


def member(name: str, kind: bytes, link: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size, info.mode = kind, link, size, 0o644
    return info


HOSTILE = [
    [member("../../escape", tarfile.REGTYPE)],
    [member("out", tarfile.SYMTYPE, "/tmp"), member("out/dwt-planted", tarfile.REGTYPE)],
    [member("hard", tarfile.LNKTYPE, "../../../etc/hostname")],
]


@pytest.mark.parametrize("extra", HOSTILE)
def test_hostile_contexts_fail_and_write_nothing_outside(daemon, extra):
    body = tar_of({"Dockerfile": b"FROM busybox\nCOPY . /\n"}, extra)
    assert "failed to read the build context" in error_of(post_build(daemon, body))
    assert not Path("/tmp/dwt-planted").exists()
    assert not (daemon.root / "data" / "escape").exists()


def test_devices_never_reach_a_step_and_symlinks_stay_links(daemon):
    dockerfile = (b"FROM busybox\nCOPY . /ctx/\n"
                  b"RUN test ! -e /ctx/zero && test -L /ctx/etc && cat /ctx/etc/passwd\n")  # fmt: skip
    dev = member("zero", tarfile.CHRTYPE)
    dev.devmajor, dev.devminor = 1, 5
    out = post_build(daemon, tar_of({"Dockerfile": dockerfile}, [dev, member("etc", tarfile.SYMTYPE, "/etc")]),
                     "nocache=1")  # fmt: skip
    assert not error_of(out), out
    assert any("root:" in m.get("stream", "") for m in out)  # the image's /etc, not the host's


def test_the_scratch_directory_goes_after_the_build(daemon):
    post_build(daemon, tar_of({"Dockerfile": b"FROM busybox\nCOPY a /a\n", "a": b"a"}), "nocache=1")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            left = [p for p in scratch(daemon).rglob("*") if p.name != "trash"]
        except FileNotFoundError:  # a directory vanished under the walk: deletion under way
            left = ["(walking)"]
        if not left:
            break
        time.sleep(0.05)
    assert left == []
