"""Remote build contexts (`POST /build?remote=`) and `ADD <git url>` against a real daemon.

Everything remote is served from 127.0.0.1 by a threaded http.server in this module: a bare
repository (git's "dumb http" protocol after `git update-server-info`), tarballs, a plain
Dockerfile and an HTML page.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import http.server
import json
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from dockwright.engine.builds.gitsource import checkout_source
from tests.integration.builder.test_docker_build import context_tar

pytestmark = pytest.mark.integration

GIT_ID = ["-c", "user.name=t", "-c", "user.email=t@example.com"]


class Remote:
    """A bare repository `repo.git` (default branch main, tag v1) and files, over http."""

    def __init__(self, root: Path) -> None:
        self.srv_dir = root / "srv"
        self.work = root / "work"
        self.bare = self.srv_dir / "repo.git"
        self.srv_dir.mkdir()
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(self.work)], check=True)
        handler = functools.partial(_QuietHandler, directory=str(self.srv_dir))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.repo = f"{self.base}/repo.git"

    def commit(self, files: dict[str, str], message: str, tag: str = "") -> str:
        """Write `files` into the work tree, commit, push main (and `tag`); the commit id."""
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.git("add", "-A")
        self.git(*GIT_ID, "commit", "-qm", message)
        if tag:
            self.git("tag", "-f", tag)
        self.git("push", "-qf", str(self.bare), "main", *(["--tags"] if tag else []))
        subprocess.run(["git", "-C", str(self.bare), "update-server-info"], check=True)
        return self.git("rev-parse", "HEAD").strip()

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", "-C", str(self.work), *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def serve(self, name: str, data: bytes) -> str:
        (self.srv_dir / name).write_bytes(data)
        return f"{self.base}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    r = Remote(tmp_path_factory.mktemp("remote"))
    r.commit({"Dockerfile": "FROM busybox\nCOPY . /ctx/\n", "app/Dockerfile":
              "FROM busybox\nCOPY hello.txt /hello.txt\n", "app/hello.txt": "hello v1\n"},
             "first", tag="v1")  # fmt: skip
    try:
        yield r
    finally:
        r.close()


def api_build(daemon, query: dict[str, str], body: bytes | None = None):
    status, data = daemon.request("POST", "/build?" + urllib.parse.urlencode(query), body,
                                  {"Content-Type": "application/x-tar"} if body else {})  # fmt: skip
    if status != 200:
        return status, json.loads(data)["message"]
    return status, [json.loads(line) for line in data.splitlines() if line.strip()]


def stream_text(messages: list[dict]) -> str:
    assert not any("error" in m for m in messages), messages
    return "".join(m.get("stream", "") for m in messages)


def run(daemon, image: str, script: str) -> str:
    r = daemon.docker("run", "--rm", image, "sh", "-c", script)
    assert r.returncode == 0, r.stderr
    return r.stdout


def scratch_left(daemon) -> list[str]:
    """What the daemon's build scratch root holds besides the trash being emptied."""
    root = daemon.root / "data" / "builder"
    deadline = time.monotonic() + 10
    while True:
        left = sorted(p.name for p in root.iterdir() if p.name != "trash")
        trash = list((root / "trash").iterdir()) if (root / "trash").exists() else []
        if (not left and not trash) or time.monotonic() > deadline:
            return left + [f"trash/{p.name}" for p in trash]
        time.sleep(0.05)


# --- remote contexts -------------------------------------------------------------------------


def test_git_context_default_ref_tag_and_subdir(daemon, remote):
    status, messages = api_build(daemon, {"remote": remote.repo, "t": "remote-git:root"})
    assert status == 200, messages
    assert "Successfully tagged remote-git:root" in stream_text(messages)
    # the legacy builder's git context keeps the .git directory
    assert run(daemon, "remote-git:root", "ls -a /ctx").split() == [
        ".", "..", ".git", "Dockerfile", "app"
    ]  # fmt: skip
    status, messages = api_build(daemon, {"remote": remote.repo + "#v1:app", "t": "remote-git:app"})
    assert status == 200, messages
    assert run(daemon, "remote-git:app", "cat /hello.txt") == "hello v1\n"
    assert scratch_left(daemon) == []


def test_git_context_dockerfile_parameter_and_branch(daemon, remote):
    query = {"remote": remote.repo + "#main", "dockerfile": "app/Dockerfile", "t": "remote-git:df"}
    status, messages = api_build(daemon, query)
    assert status == 200, messages  # the context is the whole checkout: no hello.txt at its top
    assert "stat hello.txt: file does not exist" in messages[-1]["error"]
    query = {"remote": remote.repo + "#main:app", "dockerfile": "Dockerfile", "t": "remote-git:df"}
    status, messages = api_build(daemon, query)
    assert "COPY hello.txt /hello.txt" in stream_text(messages)
    assert run(daemon, "remote-git:df", "cat /hello.txt") == "hello v1\n"


def test_tarball_context_with_progress_and_dockerfile_inside(daemon, remote):
    files = {"sub/Dockerfile.alt": "FROM busybox\nCOPY data.txt /data.txt\n",
             "data.txt": "from the tarball\n"}  # fmt: skip
    url = remote.serve("ctx.tar.gz", gzip.compress(context_tar(files)))
    status, messages = api_build(daemon, {"remote": url, "dockerfile": "sub/Dockerfile.alt",
                                          "t": "remote-tar:1"})  # fmt: skip
    assert status == 200, messages
    progress = [m for m in messages if "status" in m]
    assert progress and progress[0]["status"] == f"Downloading build context from remote url: {url}"
    assert (
        progress[-1]["progressDetail"]["current"] == (remote.srv_dir / "ctx.tar.gz").stat().st_size
    )
    assert "Successfully tagged remote-tar:1" in stream_text(messages[len(progress) :])
    assert run(daemon, "remote-tar:1", "cat /data.txt") == "from the tarball\n"
    status, messages = api_build(daemon, {"remote": url, "dockerfile": "nope/Dockerfile"})
    assert "Cannot locate specified Dockerfile: nope/Dockerfile" in messages[-1]["error"]
    assert scratch_left(daemon) == []


def test_plain_dockerfile_url(daemon, remote):
    url = remote.serve("Dockerfile", b"FROM busybox\nRUN echo built-from-url > /marker\n")
    status, messages = api_build(
        daemon, {"remote": url, "dockerfile": "ignored", "t": "remote-df:1"}
    )
    assert status == 200, messages
    assert run(daemon, "remote-df:1", "cat /marker") == "built-from-url\n"
    status, messages = api_build(daemon, {"remote": url, "q": "1"})
    assert status == 200 and not any("status" in m for m in messages), messages
    assert stream_text(messages).strip().startswith("sha256:")


@pytest.mark.parametrize(
    ("remote_of", "status", "message"),
    [
        (lambda r: "not-a-url", 500, "remoteURL (not-a-url) could not be recognized as URL"),
        (lambda r: r.base + "/missing.tar", 404,
         "error downloading remote context {base}/missing.tar: failed to GET {base}/missing.tar "
         "with status 404 File not found"),
        (lambda r: "http://127.0.0.1:1/ctx.tar", 500,
         'error downloading remote context http://127.0.0.1:1/ctx.tar: Get '
         '"http://127.0.0.1:1/ctx.tar": connection refused'),
        (lambda r: r.base + "/none.git", 500, "error fetching: fatal: repository"),
        (lambda r: r.repo + "#no-such-branch", 500,
         "error fetching: fatal: couldn't find remote ref no-such-branch"),
        (lambda r: r.repo + "#main:nope", 500, "stat nope: no such file or directory"),
        (lambda r: r.repo + "#main:Dockerfile", 500,
         "error setting git context, not a directory: Dockerfile"),
        (lambda r: r.repo + "#main:../..", 500, 'error setting git context, "../.." not within'),
        (lambda r: r.repo + "#-x", 500, "invalid refspec: -x"),
        (lambda r: r.serve("page.html", b"<html><body>hi</body></html>"), 500,
         'error detecting content type for remote {base}/page.html: unsupported Content-Type '
         '"text/html"'),
        (lambda r: r.serve("empty", b""), 500, "error detecting content type for remote "
         "{base}/empty: empty response"),
    ],
)  # fmt: skip
def test_remote_errors(daemon, remote, remote_of, status, message):
    got_status, got = api_build(daemon, {"remote": remote_of(remote), "t": "never:1"})
    assert (got_status, got[: len(message.format(base=remote.base))]) == (
        status, message.format(base=remote.base)
    )  # fmt: skip
    assert scratch_left(daemon) == []


def test_missing_dockerfile_in_git_context(daemon, remote):
    status, message = api_build(daemon, {"remote": remote.repo, "dockerfile": "nope"})
    assert (status, message) == (400, "Cannot locate specified Dockerfile: nope")
    assert scratch_left(daemon) == []


def test_docker_py_images_build_with_url(daemon, remote):
    client = daemon.client()
    try:
        image, logs = client.images.build(path=remote.repo + "#:app", tag="remote-py:1")
        assert "remote-py:1" in image.tags
        assert any("Successfully built" in chunk.get("stream", "") for chunk in logs)
    finally:
        client.close()
    assert run(daemon, "remote-py:1", "cat /hello.txt") == "hello v1\n"


def test_docker_cli_builds_a_git_url(daemon, remote):
    # the docker CLI clones git URLs itself for the legacy builder and sends the tar
    r = daemon.docker("build", "-t", "remote-cli:1", remote.repo + "#v1:app", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert run(daemon, "remote-cli:1", "cat /hello.txt") == "hello v1\n"


# --- ADD <git url> ---------------------------------------------------------------------------


def test_add_git_contents_cache_hit_and_miss_on_new_commit(daemon, remote, tmp_path):
    dockerfile = f"FROM busybox\nADD {remote.repo}#main:app /src\nRUN ls -a /src > /listing\n"
    context = context_tar({"Dockerfile": dockerfile})
    status, messages = api_build(daemon, {"t": "add-git:1"}, context)
    assert status == 200, messages
    assert run(daemon, "add-git:1", "cat /listing /src/hello.txt").split() == [
        ".", "..", "Dockerfile", "hello.txt", "hello", "v1"
    ]  # fmt: skip
    status, messages = api_build(daemon, {"t": "add-git:2"}, context)
    text = stream_text(messages)
    assert text.count("Using cache") == 2, text
    remote.commit({"app/hello.txt": "hello v2\n"}, "second")
    try:
        status, messages = api_build(daemon, {"t": "add-git:3"}, context)
        text = stream_text(messages)
        assert "Using cache" not in text, text
        assert run(daemon, "add-git:3", "cat /src/hello.txt") == "hello v2\n"
    finally:
        remote.git("reset", "-q", "--hard", "HEAD~1")
        remote.git("push", "-qf", str(remote.bare), "main")
        subprocess.run(["git", "-C", str(remote.bare), "update-server-info"], check=True)
    assert scratch_left(daemon) == []


def test_add_git_without_git_dir_and_checksum_refused(daemon, remote):
    context = context_tar({"Dockerfile": f"FROM busybox\nADD {remote.repo}#v1 /repo/\n"})
    status, messages = api_build(daemon, {"t": "add-git:root"}, context)
    assert status == 200, messages
    assert run(daemon, "add-git:root", "ls -a /repo").split() == [
        ".", "..", "Dockerfile", "app"
    ]  # fmt: skip
    bad = context_tar(
        {"Dockerfile": f"FROM busybox\nADD --checksum=sha256:{'0' * 64} {remote.repo} /r\n"}
    )
    status, messages = api_build(daemon, {}, bad)
    assert messages[-1]["error"] == "checksum can't be specified for non-HTTP(S) sources"


def test_add_keep_git_dir_keeps_the_repository(daemon, remote):
    df = f"FROM busybox\nADD --keep-git-dir=true {remote.repo}#v1 /repo/\n"
    status, messages = api_build(daemon, {"t": "add-git:kept"}, context_tar({"Dockerfile": df}))
    assert status == 200 and "error" not in messages[-1], messages
    assert run(daemon, "add-git:kept", "ls -a /repo").split() == [
        ".", "..", ".git", "Dockerfile", "app"
    ]  # fmt: skip


def test_checkout_source_keeps_git_dir_on_request(remote, tmp_path):
    url = remote.repo + "#v1"
    kept = asyncio.run(checkout_source(tmp_path / "kept", url, keep_git_dir=True))
    dropped = asyncio.run(checkout_source(tmp_path / "dropped", url, keep_git_dir=False))
    assert sorted(p.name for p in kept.source.where.iterdir()) == [".git", "Dockerfile", "app"]
    assert sorted(p.name for p in dropped.source.where.iterdir()) == ["Dockerfile", "app"]
    assert (
        kept.key != dropped.key and kept.key.split(":")[1] == remote.git("rev-parse", "v1").strip()
    )
