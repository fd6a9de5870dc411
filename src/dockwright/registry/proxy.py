"""Pull-through cache: repositories under `NAME/` are fetched from an upstream registry.

`--proxy NAME=URL` (repeatable) maps the first component of a repository name to an upstream:
`NAME/library/busybox` here is `library/busybox` at URL. A manifest asked for by tag is always
fetched fresh (tags move) and cached; when the upstream cannot be reached the cached copy is
served. Manifests by digest and blobs are fetched once, verified against their digest, and
then served from the local store like any other content. Proxied repositories are read-only.

The upstream client is blocking `urllib` run in worker threads: it follows redirects (blob
CDNs) and answers anonymous bearer-token challenges (`WWW-Authenticate: Bearer realm=...`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockwright.errors import InvalidParameter
from dockwright.registry.core import Stores
from dockwright.registry.errors import RegistryError
from dockwright.registry.manifests import MANIFEST_TYPES, MAX_MANIFEST
from dockwright.registry.names import NAME_RE, is_digest, split_digest

TIMEOUT = 30.0
CHUNK = 1 << 20
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class UpstreamUnavailable(Exception):
    """The upstream could not be reached or failed (5xx)."""


@dataclass
class Upstream:
    """One upstream registry at `url` (scheme://host[:port])."""

    url: str
    tokens: dict[str, str] = field(default_factory=dict)  # scope -> bearer token

    def _open(self, repo: str, path: str, accept: str = "", method: str = "GET") -> Any:
        """The upstream's response (the caller closes it), None for 404s and refusals."""
        url = f"{self.url}/v2/{repo}/{path}"
        scope = f"repository:{repo}:pull"
        for _ in range(2):
            req = urllib.request.Request(url, method=method)
            if accept:
                req.add_header("Accept", accept)
            if scope in self.tokens:
                req.add_header("Authorization", f"Bearer {self.tokens[scope]}")
            try:
                return urllib.request.urlopen(req, timeout=TIMEOUT)
            except urllib.error.HTTPError as exc:
                challenge = exc.headers.get("WWW-Authenticate", "")
                if (
                    exc.code == 401
                    and challenge.lower().startswith("bearer")
                    and scope not in self.tokens
                ):
                    self.tokens[scope] = _fetch_token(challenge, scope)
                    continue
                if exc.code >= 500:
                    raise UpstreamUnavailable(f"upstream {self.url} answered {exc.code}") from None
                return None  # 404 and other refusals: not there for us
            except (urllib.error.URLError, OSError) as exc:
                raise UpstreamUnavailable(f"upstream {self.url} unreachable: {exc}") from None
        return None

    def manifest(self, repo: str, ref: str, accept: str) -> tuple[bytes, str] | None:
        """(body, content type) of a manifest upstream, or None when it has none."""
        resp = self._open(repo, f"manifests/{ref}", accept or ", ".join(sorted(MANIFEST_TYPES)))
        if resp is None:
            return None
        with resp:
            body = resp.read(MAX_MANIFEST + 1)
            ctype = resp.headers.get("Content-Type", "")
        if len(body) > MAX_MANIFEST:
            raise UpstreamUnavailable(f"upstream manifest {repo}:{ref} is too large")
        return body, ctype

    def blob_to(self, repo: str, digest: str, dest: Path) -> str | None:
        """Download a blob into `dest` (fsynced); its computed digest, or None when absent."""
        resp = self._open(repo, f"blobs/{digest}")
        if resp is None:
            return None
        h = hashlib.new(split_digest(digest)[0])
        with resp, dest.open("xb") as f:
            while chunk := resp.read(CHUNK):
                h.update(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        return f"{h.name}:{h.hexdigest()}"


def _fetch_token(challenge: str, scope: str) -> str:
    params = dict(_CHALLENGE.findall(challenge))
    query = urllib.parse.urlencode({"service": params.get("service", ""), "scope": scope})
    try:
        with urllib.request.urlopen(f"{params['realm']}?{query}", timeout=TIMEOUT) as resp:
            doc = json.load(resp)
    except (KeyError, ValueError, urllib.error.URLError, OSError) as exc:
        raise UpstreamUnavailable(f"token for {scope} not granted: {exc}") from None
    return str(doc.get("token") or doc.get("access_token") or "")


def parse_proxies(specs: list[str]) -> dict[str, Upstream]:
    """{"NAME": Upstream} from `NAME=URL` specs; InvalidParameter for bad ones."""
    out: dict[str, Upstream] = {}
    for spec in specs:
        name, sep, url = spec.partition("=")
        if (
            not sep
            or "/" in name
            or not NAME_RE.match(name)
            or not url.startswith(("http://", "https://"))
        ):
            raise InvalidParameter(f"invalid --proxy {spec!r}: expected NAME=http(s)://host[:port]")
        out[name] = Upstream(url.rstrip("/"))
    return out


class PullThrough:
    """Fills the local store from upstreams before the ordinary handlers serve a request."""

    def __init__(self, stores: Stores, upstreams: dict[str, Upstream]) -> None:
        self.stores = stores
        self.upstreams = upstreams

    def match(self, name: str) -> tuple[Upstream, str] | None:
        """(upstream, its repository name) when `name` is proxied."""
        prefix, sep, rest = name.partition("/")
        up = self.upstreams.get(prefix)
        return (up, rest) if up is not None and sep else None

    async def manifest(self, name: str, ref: str, accept: str) -> None:
        up, remote = self._upstream(name)
        if is_digest(ref) and self._cached_manifest(name, ref):
            return
        try:
            found = await asyncio.to_thread(up.manifest, remote, ref, accept)
        except UpstreamUnavailable:
            if self._cached_manifest(name, ref):
                return  # serve what we have while the upstream is away
            raise RegistryError(
                "MANIFEST_UNKNOWN", f"upstream unavailable for {name}:{ref}", status=503
            ) from None
        if found is None:
            return  # the ordinary handler answers from the cache, or 404
        body, ctype = found
        alg = split_digest(ref)[0] if is_digest(ref) else "sha256"
        digest = f"{alg}:{hashlib.new(alg, body).hexdigest()}"
        self.stores.repos.put_manifest(name, ref, body, ctype, digest, check_refs=False)

    async def blob(self, name: str, digest: str) -> None:
        up, remote = self._upstream(name)
        try:
            self.stores.repos.blob_size(name, digest)
            return
        except RegistryError:
            pass
        tmp = self.stores.layout.tmp / f"proxy-{os.urandom(8).hex()}"
        try:
            computed = await asyncio.to_thread(up.blob_to, remote, digest, tmp)
            if computed is not None:
                await asyncio.to_thread(self.stores.blobs.commit, tmp, digest, computed)
                self.stores.repos.link_committed(name, digest)
        except UpstreamUnavailable:
            raise RegistryError(
                "BLOB_UNKNOWN", f"upstream unavailable for {digest}", status=503
            ) from None
        finally:
            tmp.unlink(missing_ok=True)

    def _upstream(self, name: str) -> tuple[Upstream, str]:
        found = self.match(name)
        assert found is not None
        return found

    def _cached_manifest(self, name: str, ref: str) -> bool:
        try:
            self.stores.repos.resolve(name, ref)
        except RegistryError:
            return False
        return True


__all__ = ["PullThrough", "Upstream", "UpstreamUnavailable", "parse_proxies"]
