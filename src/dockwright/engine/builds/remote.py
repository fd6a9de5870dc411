"""`POST /build?remote=<url>`: a build context the daemon fetches itself (the legacy builder's).

A git address (builder/gitref.py says which) is cloned with git (gitclone.py) and the checkout,
or its `#ref:subdir` subdirectory, `.git` included as dockerd keeps it, is the context. Any other
http(s) URL is downloaded with "Downloading build context from remote url" progress messages:
a tar (plain or compressed) is the context; a text file is the Dockerfile of an otherwise
empty context (the `dockerfile` parameter is then ignored, as dockerd ignores it). The type
comes from Content-Type, sniffed from the first bytes when the server sends none or
application/octet-stream (moby's remotecontext rules and messages).

Everything is fetched into a directory of its own under the build scratch root, removed when
the build ends (failed, cancelled or not). Errors before the first message keep dockerd's
HTTP status: 404/400/401/403 for those answers of the remote server, 500 otherwise.
"""

from __future__ import annotations

import asyncio
import http.client
import shutil
import socket
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

from dockwright.builder import gitref, sniff
from dockwright.builder.fetch import USER_AGENT
from dockwright.builder.options import BuildOptions
from dockwright.engine.builds.gitclone import clone
from dockwright.engine.builds.state import Message
from dockwright.errors import (
    DockwrightError,
    Forbidden,
    InvalidParameter,
    NotFound,
    SystemError_,
    Unauthorized,
)

CHUNK = 1 << 20
TIMEOUT = 60.0
DOWNLOAD = "Downloading build context from remote url: "
STATUS_ERRORS: dict[int, type[DockwrightError]] = {
    404: NotFound, 400: InvalidParameter, 401: Unauthorized, 403: Forbidden,
}  # fmt: skip

Build = Callable[[AsyncIterable[bytes], BuildOptions], AsyncIterator[Message]]


async def remote_build(url: str, opts: BuildOptions, scratch_root: Path | None,
                       build: Build) -> AsyncIterator[Message]:  # fmt: skip
    """The build of the context at `url`: the fetch's progress, then `build`'s messages."""
    workdir = Path(tempfile.mkdtemp(prefix="remote-", dir=scratch_root))
    try:
        fetched = RemoteContext(url, workdir)
        async for msg in fetched.fetch():
            if not opts.quiet:  # dockerd keeps a quiet build's progress to itself too
                yield msg
        async for msg in build(fetched.chunks(), fetched.options(opts)):
            yield msg
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)


class RemoteContext:
    """The context at `url`, fetched into `workdir` (the caller's) as one tar file."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.workdir = workdir
        self.tar = workdir / "context.tar"
        self.dockerfile: str | None = None  # set when the URL was the Dockerfile itself

    async def fetch(self) -> AsyncIterator[Message]:
        """Fetch the context; progress messages while a URL downloads (none for git)."""
        if gitref.context_kind(self.url) == "git":
            checkout = await clone(gitref.parse(self.url), self.workdir / "git")
            await asyncio.to_thread(tar_directory, checkout.context, self.tar)
            return
        async for msg in self._download():
            yield msg

    def options(self, opts: BuildOptions) -> BuildOptions:
        return opts if self.dockerfile is None else replace(opts, dockerfile=self.dockerfile)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The context tar, as the request body would have brought it."""
        with self.tar.open("rb") as f:
            while data := await asyncio.to_thread(f.read, CHUNK):
                yield data

    async def _download(self) -> AsyncIterator[Message]:
        resp = await asyncio.to_thread(open_url, self.url)
        try:
            total = int(resp.headers.get("Content-Length") or 0)
            preamble = await asyncio.to_thread(resp.read, min(total or 100, 100))
            kind = _content_kind(self.url, resp.headers.get("Content-Type") or "", preamble)
            path = self.tar if kind == "tar" else self.workdir / "Dockerfile"
            with path.open("wb") as f:
                f.write(preamble)
                current = len(preamble)
                yield _progress(self.url, current, total)
                while data := await asyncio.to_thread(resp.read, CHUNK):
                    f.write(data)
                    current += len(data)
                    yield _progress(self.url, current, total)
        finally:
            await asyncio.to_thread(resp.close)
        if kind == "dockerfile":
            await asyncio.to_thread(tar_files, {"Dockerfile": path}, self.tar)
            self.dockerfile = "Dockerfile"


def open_url(url: str) -> http.client.HTTPResponse:
    """Blocking GET; dockerd's errors: the remote's 404/400/401/403 keep their class."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    prefix = f"error downloading remote context {url}"
    try:
        resp: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace").strip()
        status = f"{exc.code} {exc.reason}"
        error = STATUS_ERRORS.get(exc.code, SystemError_)
        raise error(f"{prefix}: failed to GET {url} with status {status}: {body}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        error = NotFound if isinstance(reason, socket.gaierror) else SystemError_
        text = (
            reason.strerror.lower() if isinstance(reason, OSError) and reason.strerror else reason
        )
        raise error(f'{prefix}: Get "{url}": {text}') from None
    return resp


def _content_kind(url: str, header: str, preamble: bytes) -> str:
    """What the body is, "tar" or "dockerfile"; SystemError_ for an empty one or a refused type."""
    prefix = f"error detecting content type for remote {url}"
    if not preamble:
        raise SystemError_(f"{prefix}: empty response")
    found = sniff.acceptable(header, preamble)
    if not found:
        raise SystemError_(f'{prefix}: unsupported Content-Type "{header}"')
    return "dockerfile" if found == sniff.TEXT else "tar"


def _progress(url: str, current: int, total: int) -> Message:
    detail = {"current": current, "total": total} if total else {"current": current}
    return {"status": DOWNLOAD + url, "progressDetail": detail}


def tar_directory(top: Path, target: Path) -> None:
    """Blocking: `top`'s contents (owners, modes, times, links kept) as a plain tar."""
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tf:
        for entry in sorted(top.iterdir()):
            tf.add(entry, arcname=entry.name)


def tar_files(files: dict[str, Path], target: Path) -> None:
    """Blocking: a tar of the given files under the given names."""
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tf:
        for name, path in files.items():
            tf.add(path, arcname=name)
