"""ADD <url>: download a remote file for a build step (blocking; run it in a worker thread).

What BuildKit's HTTP source does, which this follows:
- the file name comes from the `filename` parameter of Content-Disposition when the server sends
  one, else from the last segment of the URL path, else `index`; it is never a path;
- the file gets mode 0600 (before --chmod) and the Last-Modified time as its mtime (the Unix
  epoch when the header is missing or unreadable); it is never unpacked, even when it is a tar;
- `--checksum` is compared with the digest of the bytes received: a mismatch fails with
  `digest mismatch for <url>: <got> (expected: <want>)`;
- status codes outside 200..399 fail the step.
The daemon's proxy environment (HTTP_PROXY, NO_PROXY, ...) applies, as it does for dockerd.
A git repository (`ADD https://host/repo.git#ref /dst`, builder/gitref.py) is not downloaded
here but checked out (engine/builds/gitsource.py).
"""

from __future__ import annotations

import email.message
import email.utils
import hashlib
import http.client
import os
import posixpath
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dockwright.errors import InvalidParameter

TIMEOUT = 60.0
CHUNK = 1 << 20
USER_AGENT = "dockwright-builder"


@dataclass(frozen=True)
class Download:
    """A fetched URL: where it was written, under which name, its digest and mtime."""

    url: str
    path: Path
    name: str
    digest: str  # "sha256:<hex>" (or the --checksum algorithm)
    mtime: int  # seconds since the epoch


def file_name(url: str, content_disposition: str | None) -> str:
    """The name a downloaded file gets (BuildKit's precedence); never empty, never a path."""
    name = _disposition_name(content_disposition or "")
    if not name:
        path = urllib.parse.urlsplit(url).path
        name = posixpath.basename(path.rstrip("/")) if path.strip("/") else ""
        name = urllib.parse.unquote(name)
    return _safe(name)


def _disposition_name(value: str) -> str:
    if not value:
        return ""
    msg = email.message.Message()
    msg["content-disposition"] = value
    raw = msg.get_param("filename", header="content-disposition")
    name = email.utils.collapse_rfc2231_value(raw) if raw else ""
    if not name or name.endswith("/"):
        return ""
    return posixpath.basename(name.replace("\\", "/"))


def _safe(name: str) -> str:
    name = posixpath.basename(name)
    return "index" if name in ("", ".", "..") else name


def last_modified(value: str | None) -> int:
    """The Last-Modified header in seconds; 0 (the epoch) when missing or unreadable."""
    if not value:
        return 0
    try:
        return int(email.utils.parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, IndexError):
        return 0


def check_digest(url: str, got: str, expected: str) -> None:
    """InvalidParameter with BuildKit's message when a pinned checksum does not match."""
    if expected and got != expected:
        raise InvalidParameter(f"digest mismatch for {url}: {got} (expected: {expected})")


def validate_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameter(f"invalid URL for ADD: {url}")


def download(url: str, directory: Path, checksum: str = "", timeout: float = TIMEOUT) -> Download:
    """Fetch `url` into a new file under `directory` (which the caller owns and removes)."""
    validate_url(url)
    algo = checksum.partition(":")[0] if checksum else "sha256"
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            name = file_name(url, resp.headers.get("Content-Disposition"))
            mtime = last_modified(resp.headers.get("Last-Modified"))
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / name
            digest = _save(resp, path, algo)
    except urllib.error.HTTPError as exc:
        raise InvalidParameter(f"failed to GET {url} with status {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InvalidParameter(f"failed to GET {url}: {reason}") from None
    check_digest(url, digest, checksum)
    os.utime(path, (mtime, mtime))
    return Download(url, path, name, digest, mtime)


class _Body(Protocol):
    def read(self, n: int, /) -> bytes: ...


def _save(resp: _Body, path: Path, algo: str) -> str:
    """Stream the body to `path` (mode 0600) while hashing it; returns `algo:hex`."""
    h = hashlib.new(algo)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        for block in iter(lambda: resp.read(CHUNK), b""):
            h.update(block)
            f.write(block)
    os.chmod(path, 0o600)
    return f"{algo}:{h.hexdigest()}"
