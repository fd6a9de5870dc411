"""Git sources of a build: which strings name a repository, and how to check one out. Pure.

Two readers of a git address, as in Docker:
- `context_kind` reads `POST /build?remote=` as the legacy builder does (moby's urlutil): an
  http(s) URL whose path ends in `.git` (before an optional `#fragment`), or anything starting
  with `git://`, `git@`, `ssh://` or `github.com/`, is a repository; any other http(s) URL is
  downloaded; the rest is refused.
- `is_add_source` reads an ADD source as BuildKit does: `git@…`, `git://…`, `ssh://…`, and http(s)
  URLs whose path ends in `.git`; `github.com/…` is a local path there.

`parse` splits `repo#ref:subdir` (moby's rules: `github.com/…` gets `https://`, `git@host:path` is
not a URL and keeps its colon, a ref starting with "-" is refused). No ref means the remote's
HEAD (moby fetches `master`, which fails on repositories whose default branch has another
name). `fetch_plan` lists the git commands that check the ref out; engine/builds/gitclone.py
runs them.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from dockwright.errors import SystemError_

CONTEXT_PREFIXES = ("git://", "github.com/", "git@", "ssh://")
ADD_PREFIXES = ("git://", "git@", "ssh://")
SMART_TYPE = "application/x-git-upload-pack-advertisement"  # a smart HTTP server's answer
_DOT_GIT = re.compile(r"\.git(?:#.+)?$")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class GitRef:
    """A repository to fetch, the ref to check out ("" for its HEAD) and the subdirectory used."""

    remote: str
    ref: str = ""
    subdir: str = ""

    @property
    def is_http(self) -> bool:
        return self.remote.startswith(("http://", "https://"))

    @property
    def is_commit(self) -> bool:
        """A full commit id: fetched like a branch only from servers that allow it."""
        return bool(_COMMIT.fullmatch(self.ref))


@dataclass(frozen=True)
class GitCommand:
    """One git invocation (after git's global options) and the message its failure gets."""

    args: tuple[str, ...]
    failure: str  # "<failure>: <git's output>"


def is_http_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def context_kind(remote: str) -> str:
    """The kind of a `remote=` value, "git" or "url"; SystemError_ (dockerd's words) otherwise."""
    if (is_http_url(remote) and _DOT_GIT.search(remote)) or remote.startswith(CONTEXT_PREFIXES):
        return "git"
    if is_http_url(remote):
        return "url"
    raise SystemError_(f"remoteURL ({remote}) could not be recognized as URL")


def is_add_source(text: str) -> bool:
    """Whether an ADD source names a git repository (BuildKit's reading)."""
    if text.startswith(ADD_PREFIXES):
        return True
    if not is_http_url(text):
        return False
    return urllib.parse.urlsplit(text).path.endswith(".git")


def parse(url: str) -> GitRef:
    """`repo[#ref[:subdir]]` split; SystemError_ for a ref git would read as an option."""
    if not url.startswith(("git@", "git://", "ssh://", "http://", "https://")):
        url = "https://" + url
    remote, _, fragment = url.partition("#")
    ref, _, subdir = fragment.partition(":")
    if ref.startswith("-"):
        raise SystemError_(f"invalid refspec: {ref}")
    return GitRef(remote, ref, subdir.strip("/") if subdir.strip("/") else "")


def probe_url(ref: GitRef) -> str | None:
    """Where to ask an HTTP server whether it is smart (can serve shallow fetches); None for
    the other transports, which always can."""
    if not ref.is_http:
        return None
    return ref.remote.rstrip("/") + "/info/refs?service=git-upload-pack"


def fetch_plan(ref: GitRef, directory: str, shallow: bool) -> list[GitCommand]:
    """The commands, run in `directory`, that leave the ref checked out (detached) there.

    A commit id is fetched by itself from a smart server; from a dumb one every branch and
    tag is fetched and the commit checked out from them.
    """
    depth = ("--depth", "1") if shallow else ()
    if ref.is_commit and not shallow:
        fetch: tuple[str, ...] = ("fetch", "--tags", "origin")
        target = ref.ref
    else:
        fetch = ("fetch", *depth, "origin", "--", ref.ref or "HEAD")
        target = "FETCH_HEAD"
    return [
        GitCommand(("init", "-q"), f"failed to init repo at {directory}"),
        GitCommand(("remote", "add", "origin", ref.remote), f"failed add origin repo at {ref.remote}"),
        GitCommand(fetch, "error fetching"),
        GitCommand(("checkout", "-q", "--detach", target), f"error checking out {ref.ref or 'HEAD'}"),
    ]  # fmt: skip


def submodule_command(shallow: bool) -> GitCommand:
    """Submodules, when the checkout has a .gitmodules file (moby always asks git)."""
    depth = ("--depth=1",) if shallow else ()
    return GitCommand(
        ("submodule", "update", "--init", "--recursive", *depth), "error initializing submodules"
    )


def subdir_parts(subdir: str) -> list[str]:
    """The subdirectory's path segments; SystemError_ when it climbs out of the checkout."""
    parts = [p for p in subdir.split("/") if p not in ("", ".")]
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else 1
        if depth < 0:
            raise SystemError_(f'error setting git context, "{subdir}" not within git root')
    return parts
