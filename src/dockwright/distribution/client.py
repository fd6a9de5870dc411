"""A blocking client of the registry HTTP API v2 for one repository (run it in worker threads).

It answers authentication challenges itself: the first 401 names Basic or Bearer; the client
then sends the credentials (Basic) or fetches a token from the realm for the repository scope
(Bearer) and retries. Authorization is never forwarded across redirects (blob downloads are often
redirected to a storage service that refuses foreign credentials). Registry errors become
`RegistryError` carrying the status and the registry's error codes, for the caller to phrase.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote, urljoin

from dockwright.distribution import auth
from dockwright.distribution.endpoint import Endpoint
from dockwright.distribution.manifest import ACCEPT
from dockwright.errors import DockwrightError

CHUNK = 1 << 20
TIMEOUT = 60.0


class RegistryError(DockwrightError):
    """A registry answered with an error status; `codes` are its error codes (MANIFEST_UNKNOWN…)."""

    def __init__(self, status: int, codes: list[str], detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.codes = codes


@dataclass
class Reply:
    status: int
    headers: Any  # email.message.Message-like: .get(name)
    body: IO[bytes]

    def read(self) -> bytes:
        try:
            return self.body.read()
        finally:
            self.body.close()

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The body in chunks; ConnectionError when the registry breaks off mid-body."""
        length = self.headers.get("Content-Length")
        total = 0
        try:
            while True:
                try:
                    data = self.body.read(size)
                except (http.client.HTTPException, TimeoutError) as exc:
                    raise ConnectionError(f"download interrupted: {exc!r}") from None
                if not data:
                    break
                total += len(data)
                yield data
        finally:
            self.body.close()
        if length is not None and length.isdigit() and total < int(length):
            raise ConnectionError(f"download interrupted after {total} of {length} bytes")


class _NoRaise(urllib.request.HTTPErrorProcessor):
    """Hand every status but redirects back to us instead of raising HTTPError."""

    def http_response(self, request: Any, response: Any) -> Any:
        if response.status in (301, 302, 303, 307, 308):
            return super().http_response(request, response)
        return response

    https_response = http_response


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects of GET and HEAD only: a body is never resent elsewhere."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> Any:  # fmt: skip
        if req.get_method() in ("GET", "HEAD"):
            return super().redirect_request(req, fp, code, msg, headers, newurl)
        raise urllib.error.HTTPError(req.full_url, code, msg, headers, fp)


_OPENER = urllib.request.build_opener(_Redirects(), _NoRaise())


def raw_request(method: str, url: str, headers: dict[str, str] | None = None,
                body: bytes | IO[bytes] | None = None, timeout: float = TIMEOUT) -> Reply:  # fmt: skip
    """One HTTP request, any status returned; OSError when the registry is unreachable."""
    req = urllib.request.Request(url, data=body, method=method)
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            req.add_unredirected_header(name, value)
        else:
            req.add_header(name, value)
    try:
        resp = _OPENER.open(req, timeout=timeout)
    except urllib.error.URLError as exc:
        raise OSError(f"cannot reach {url}: {exc.reason}") from None
    return Reply(resp.status, resp.headers, resp)


def error_of(reply: Reply) -> RegistryError:
    """The registry's error document (or the bare status) as a RegistryError."""
    data = reply.read()
    codes: list[str] = []
    messages: list[str] = []
    try:
        for e in json.loads(data).get("errors") or []:
            codes.append(str(e.get("code", "")))
            messages.append(f"{str(e.get('code', '')).lower().replace('_', ' ')}: "
                            f"{e.get('message', '')}")  # fmt: skip
    except (ValueError, AttributeError):
        pass
    detail = "; ".join(messages) or f"registry answered {reply.status}"
    return RegistryError(reply.status, codes, detail)


class RegistryClient:
    """One repository on one registry endpoint, with the credentials to use there."""

    def __init__(self, endpoint: Endpoint, repository: str,
                 creds: auth.Credentials = auth.ANONYMOUS, actions: str = "pull") -> None:  # fmt: skip
        self.endpoint = endpoint
        self.repository = repository
        self.creds = creds
        self.actions = actions
        self._authz: str | None = None
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"{self.endpoint.base}/v2/{self.repository}/{path}"

    def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                body: bytes | IO[bytes] | None = None) -> Reply:  # fmt: skip
        """A request with our authorization; one retry after a challenge (bytes bodies only)."""
        reply = raw_request(method, url, self._headers(headers), body)
        if reply.status != 401 or not isinstance(body, bytes | None):
            return reply
        challenge = reply.headers.get("WWW-Authenticate") or ""
        reply.read()
        self._answer(challenge)
        return raw_request(method, url, self._headers(headers), body)

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self._authz:
            out["Authorization"] = self._authz
        return out

    def _answer(self, header: str) -> None:
        """Work out the Authorization header a challenge asks for."""
        challenges = auth.parse_challenges(header)
        with self._lock:
            for ch in challenges:
                if ch.scheme == "bearer":
                    self._authz = "Bearer " + self._token(ch)
                    return
                if ch.scheme == "basic" and not self.creds.anonymous:
                    self._authz = self.creds.basic()
                    return
        raise RegistryError(401, ["UNAUTHORIZED"], "authentication required")

    def _token(self, ch: auth.Challenge) -> str:
        if self.creds.registry_token:
            return self.creds.registry_token
        scopes = [auth.scope(self.repository, self.actions)] if self.repository else []
        headers = {} if self.creds.anonymous else {"Authorization": self.creds.basic()}
        reply = raw_request("GET", auth.token_url(ch, scopes), headers)
        if reply.status != 200:
            raise RegistryError(reply.status, ["UNAUTHORIZED"],
                                f"unauthorized: token server answered {reply.status}")  # fmt: skip
        return auth.token_from_response(reply.read())

    def login(self) -> None:
        """Check the credentials against the registry's /v2/ (docker login)."""
        reply = self.request("GET", f"{self.endpoint.base}/v2/")
        if reply.status != 200:
            raise error_of(reply)
        reply.read()

    # -- manifests -------------------------------------------------------------------------

    def get_manifest(self, reference: str) -> tuple[bytes, str, str | None]:
        """(body, media type, Docker-Content-Digest header) of a manifest by tag or digest."""
        reply = self.request("GET", self.url("manifests/" + quote(reference)), {"Accept": ACCEPT})
        if reply.status != 200:
            raise error_of(reply)
        media = (reply.headers.get("Content-Type") or "").split(";")[0].strip()
        return reply.read(), media, reply.headers.get("Docker-Content-Digest")

    def put_manifest(self, reference: str, body: bytes, media_type: str) -> str | None:
        reply = self.request("PUT", self.url("manifests/" + quote(reference)), {
            "Content-Type": media_type}, body)  # fmt: skip
        if reply.status not in (200, 201):
            raise error_of(reply)
        reply.read()
        return reply.headers.get("Docker-Content-Digest")

    def list_tags(self) -> list[str]:
        """The repository's tags (`GET /v2/<name>/tags/list`, first page)."""
        reply = self.request("GET", self.url("tags/list"))
        if reply.status != 200:
            raise error_of(reply)
        try:
            return [str(t) for t in json.loads(reply.read()).get("tags") or []]
        except (ValueError, AttributeError):
            raise RegistryError(200, [], "invalid tag list from registry") from None

    # -- blobs -----------------------------------------------------------------------------

    def open_blob(self, digest: str) -> Reply:
        reply = self.request("GET", self.url("blobs/" + digest))
        if reply.status != 200:
            raise error_of(reply)
        return reply

    def has_blob(self, digest: str) -> bool:
        reply = self.request("HEAD", self.url("blobs/" + digest))
        reply.read()
        if reply.status in (200, 404):
            return reply.status == 200
        raise error_of(reply)

    def upload_blob(self, digest: str, size: int, data: IO[bytes], mount_from: str | None = None,
                    chunk: int | None = None) -> bool:  # fmt: skip
        """Upload a blob: monolithic (one PUT) or, with `chunk`, in PATCHes of that many bytes.

        With `mount_from` (a repository of the same registry) the registry is first asked to
        mount the blob from there; returns True when it did and nothing was sent.
        """
        query = f"?mount={quote(digest)}&from={quote(mount_from)}" if mount_from else ""
        reply = self.request("POST", self.url("blobs/uploads/" + query),
                             {"Content-Length": "0"}, b"")  # fmt: skip
        if reply.status == 201 and mount_from:
            reply.read()
            return True
        location = self._location(reply, 202)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        body: IO[bytes] | bytes = data
        if chunk:
            location = self._patch_all(location, data, chunk)
            headers, body = {"Content-Length": "0"}, b""
        sep = "&" if "?" in location else "?"
        reply = self.request("PUT", f"{location}{sep}digest={quote(digest)}", headers, body)
        if reply.status != 201:
            raise error_of(reply)
        reply.read()
        return False

    def _location(self, reply: Reply, status: int) -> str:
        if reply.status != status:
            raise error_of(reply)
        reply.read()
        return urljoin(self.endpoint.base + "/", reply.headers.get("Location") or "")

    def _patch_all(self, location: str, data: IO[bytes], chunk: int) -> str:
        """Send `data` in PATCH requests with Content-Range; returns the final location."""
        offset = 0
        while piece := data.read(chunk):
            headers = {"Content-Type": "application/octet-stream",
                       "Content-Range": f"{offset}-{offset + len(piece) - 1}",
                       "Content-Length": str(len(piece))}  # fmt: skip
            location = self._location(self.request("PATCH", location, headers, piece), 202)
            offset += len(piece)
        return location
