"""COPY/ADD completeness against a real dockwrightd with the real docker CLI (legacy builder):
ADD <url> from a loopback HTTP server started here (checksums, names, mtimes, the cache keyed
on the downloaded bytes), COPY --exclude/--parents/--chmod checked inside a container, and
SOURCE_DATE_EPOCH giving the same image id for two cold builds."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"  # 1700000000


@dataclass
class Files:
    """What the loopback server answers: path -> (body, extra headers)."""

    routes: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)


def _handler(files: Files) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            files.hits.append(self.path)
            found = files.routes.get(self.path)
            if found is None:
                self.send_error(404)
                return
            body, headers = found
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def web() -> Iterator[tuple[str, Files]]:
    """An HTTP server on 127.0.0.1 (a free port) in a thread; shut down and closed at the end."""
    files = Files()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(files))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def build(daemon, ctx: Path, dockerfile: str, *args: str):
    (ctx / "Dockerfile").write_text(dockerfile)
    return daemon.docker("build", *args, str(ctx), timeout=120)


def run(daemon, image: str, script: str) -> list[str]:
    r = daemon.docker("run", "--rm", image, "sh", "-c", script)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes() -> bytes:
    """A real tar archive: ADD must keep it as a file when it comes from a URL."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("inner.txt")
        tf.addfile(info, io.BytesIO(b""))
    return buf.getvalue()


def test_add_url_names_modes_mtimes_and_good_checksum(daemon, web, tmp_path):
    base, files = web
    data = b"checked data\n"
    files.routes["/files/tool.tar"] = (tar_bytes(), {"Last-Modified": LAST_MODIFIED})
    files.routes["/files/data.txt"] = (data, {})
    files.routes["/download?id=1"] = (
        b"#!/bin/sh\necho script\n",
        {"Content-Disposition": 'attachment; filename="script.sh"'},
    )
    r = build(daemon, tmp_path, "FROM busybox\n"
              f"ADD {base}/files/tool.tar /dl/\n"
              f"ADD --checksum={sha256(data)} {base}/files/data.txt /checked.txt\n"
              f"ADD --chmod=755 --chown=65534:65534 {base}/download?id=1 /named/\n",
              "-t", "addurl:1")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    out = run(daemon, "addurl:1", "ls /dl; stat -c '%a %Y %u' /dl/tool.tar; cat /checked.txt; "
              "stat -c '%a %Y' /checked.txt; ls /named; stat -c '%a %u:%g' /named/script.sh; "
              "/named/script.sh")  # fmt: skip
    assert out == ["tool.tar", "600 1700000000 0", "checked data", "600 0", "script.sh",
                   "755 65534:65534", "script"]  # fmt: skip


def test_add_url_bad_checksum_fails_with_buildkits_message(daemon, web, tmp_path):
    base, files = web
    files.routes["/files/bad.txt"] = (b"actual\n", {})
    wanted = sha256(b"expected\n")
    r = build(daemon, tmp_path, f"FROM busybox\nADD --checksum={wanted} {base}/files/bad.txt /x\n")
    assert r.returncode != 0
    text = r.stdout + r.stderr
    got = sha256(b"actual\n")
    assert f"digest mismatch for {base}/files/bad.txt: {got} (expected: {wanted})" in text
    assert daemon.docker("ps", "-aq").stdout.strip() == ""


def test_checksum_refused_for_local_sources_and_copy_url_refused(daemon, tmp_path):
    (tmp_path / "f").write_text("f")
    r = build(daemon, tmp_path, f"FROM busybox\nADD --checksum={sha256(b'f')} f /f\n")
    assert r.returncode != 0
    assert "checksum can't be specified for non-HTTP(S) sources" in r.stdout + r.stderr
    r = build(daemon, tmp_path, "FROM busybox\nCOPY http://127.0.0.1:1/f /f\n")
    assert r.returncode != 0 and "source can't be a URL for COPY" in r.stdout + r.stderr


def _add_step_cached(output: str) -> bool:
    """Whether the build's ADD step (step 2) said 'Using cache'."""
    step = output.split("Step 2/3", 1)[1].split("Step 3/3", 1)[0]
    return "Using cache" in step


def test_url_content_keys_the_cache(daemon, web, tmp_path):
    base, files = web
    files.routes["/files/moving.txt"] = (b"version 1\n", {})
    dockerfile = f"FROM busybox\nADD {base}/files/moving.txt /moving.txt\nRUN cat /moving.txt\n"
    first = build(daemon, tmp_path, dockerfile, "-t", "urlcache:1")
    assert first.returncode == 0, first.stdout + first.stderr
    hits = files.hits.count("/files/moving.txt")
    same = build(daemon, tmp_path, dockerfile, "-t", "urlcache:2")
    assert same.returncode == 0 and _add_step_cached(same.stdout), same.stdout
    assert files.hits.count("/files/moving.txt") == hits + 1  # downloaded again, as Docker does
    files.routes["/files/moving.txt"] = (b"version 2\n", {})
    changed = build(daemon, tmp_path, dockerfile, "-t", "urlcache:3")
    assert changed.returncode == 0 and not _add_step_cached(changed.stdout), changed.stdout
    assert run(daemon, "urlcache:3", "cat /moving.txt") == ["version 2"]
    assert run(daemon, "urlcache:2", "cat /moving.txt") == ["version 1"]


def _tree(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name + "\n")


def test_copy_exclude_parents_and_chmod_inside_a_container(daemon, tmp_path):
    _tree(tmp_path, ["src/a.py", "src/a.pyc", "src/debug.log", "src/tmp/scratch", "src/lib/b.py",
                     "x/a.txt", "y/b.txt", "y/c.md", "base/keep/deep.txt", "modes/sub/f"])  # fmt: skip
    dockerfile = ("FROM busybox\n"
                  "COPY --exclude=*.pyc --exclude=*.log --exclude=tmp src/ /app/\n"
                  "COPY --parents x/a.txt y/*.txt /p/\n"
                  "COPY --parents ./base/./keep/deep.txt /pivot/\n"
                  "COPY --link --chmod=750 modes /modes/\n")  # fmt: skip
    r = build(daemon, tmp_path, dockerfile, "-t", "copyflags:1")
    assert r.returncode == 0, r.stdout + r.stderr
    out = run(daemon, "copyflags:1", "find /app /p /pivot -type f | sort; "
              "stat -c '%n %a' /modes/sub /modes/sub/f")  # fmt: skip
    assert out == ["/app/a.py", "/app/lib/b.py", "/p/x/a.txt", "/p/y/b.txt",
                   "/pivot/keep/deep.txt", "/modes/sub 750", "/modes/sub/f 750"]  # fmt: skip
    again = build(daemon, tmp_path, dockerfile.replace("--exclude=tmp ", ""), "-t", "copyflags:2")
    assert again.returncode == 0, again.stdout + again.stderr
    step2 = again.stdout.split("Step 2/5", 1)[1].split("Step 3/5", 1)[0]
    assert "Using cache" not in step2  # a changed flag is a changed key
    assert "/app/tmp/scratch" in run(daemon, "copyflags:2", "find /app -type f")


EPOCH = 1700000000
REPRO = """\
FROM busybox
ENV GREETING=hello
RUN mkdir -p /out && echo "$GREETING" > /out/hello && touch /out/stamp
COPY files/ /files/
WORKDIR /files
RUN ls -la /files > /out/listing
"""


def test_source_date_epoch_builds_the_same_image_twice(daemon, tmp_path):
    _tree(tmp_path, ["files/one", "files/two/three"])
    args = ("--no-cache", "--build-arg", f"SOURCE_DATE_EPOCH={EPOCH}")
    first = build(daemon, tmp_path, REPRO, *args, "-t", "repro:1")
    assert first.returncode == 0, first.stdout + first.stderr
    time.sleep(1.1)  # a second later: any wall-clock time that leaks in changes the id
    second = build(daemon, tmp_path, REPRO, *args, "-t", "repro:2")
    assert second.returncode == 0, second.stdout + second.stderr
    inspect = json.loads(daemon.docker("image", "inspect", "repro:1", "repro:2").stdout)
    assert inspect[0]["Id"] == inspect[1]["Id"]
    assert "were not consumed" not in first.stdout  # a special build arg, as in BuildKit
    assert inspect[0]["Created"] == "2023-11-14T22:13:20Z"
    status, body = daemon.request("GET", "/images/repro:1/history")
    assert status == 200, body
    created = [entry["Created"] for entry in json.loads(body)]
    assert len(created) > 5 and created[:5] == [EPOCH] * 5  # the five steps of this build
    assert run(daemon, "repro:1", "stat -c %Y /out/stamp") == [str(EPOCH)]
    third = build(daemon, tmp_path, REPRO, "--no-cache", "-t", "repro:3")
    assert third.returncode == 0, third.stdout + third.stderr
    plain = json.loads(daemon.docker("image", "inspect", "repro:3").stdout)[0]
    assert plain["Id"] != inspect[0]["Id"] and plain["Created"] != inspect[0]["Created"]
    cached = build(daemon, tmp_path, REPRO, *args[1:], "-t", "repro:4")  # cache allowed
    assert cached.returncode == 0, cached.stdout + cached.stderr
    assert "Using cache" in cached.stdout  # the epoch's own entries, never the plain build's
    again = json.loads(daemon.docker("image", "inspect", "repro:4").stdout)[0]
    assert again["Id"] == inspect[0]["Id"]
