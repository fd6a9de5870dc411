"""Blob routes: HEAD/GET (with Range)/DELETE, and upload sessions (POST, PATCH, PUT, GET, DELETE)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from dockwright.registry.core import Stores
from dockwright.registry.errors import RegistryError
from dockwright.registry.http import FileBody, Request, Response
from dockwright.registry.names import check_digest, check_name
from dockwright.registry.ranges import byte_range, content_range

Match = dict[str, str]


async def blob_get(s: Stores, req: Request, m: Match) -> Response:
    name, digest = check_name(m["name"]), check_digest(m["digest"])
    size = s.repos.blob_size(name, digest)
    headers = [
        ("Content-Type", "application/octet-stream"),
        ("Docker-Content-Digest", digest),
        ("ETag", f'"{digest}"'),
        ("Accept-Ranges", "bytes"),
        ("Cache-Control", "max-age=31536000"),
    ]
    path = s.blobs.path(digest)
    if req.method == "HEAD":
        return Response(200, headers, FileBody(path, 0, size))
    span = byte_range(req.header("range"), size)
    start, end = span if span is not None else (0, size - 1)
    try:
        f = path.open("rb")  # held open: a blob collected meanwhile is still sent whole
    except FileNotFoundError:
        raise RegistryError("BLOB_UNKNOWN", f"blob unknown: {digest}", {"digest": digest}) from None
    if span is None:
        return Response(200, headers, FileBody(path, 0, size, f))
    headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
    return Response(206, headers, FileBody(path, start, end - start + 1, f))


async def blob_delete(s: Stores, req: Request, m: Match) -> Response:
    name, digest = check_name(m["name"]), check_digest(m["digest"])
    s.repos.unlink_blob(name, digest)
    return Response(202, [("Docker-Content-Digest", digest)])


def _blob_created(name: str, digest: str) -> Response:
    return Response(
        201, [("Location", f"/v2/{name}/blobs/{digest}"), ("Docker-Content-Digest", digest)]
    )


def _upload_status(status: int, name: str, uuid: str, offset: int) -> Response:
    return Response(
        status,
        [
            ("Location", f"/v2/{name}/blobs/uploads/{uuid}"),
            ("Range", f"0-{max(offset - 1, 0)}"),
            ("Docker-Upload-UUID", uuid),
        ],
    )


async def upload_start(s: Stores, req: Request, m: Match) -> Response:
    """POST: a cross-repository mount, a single-request upload (`?digest=`), or a session."""
    name = check_name(m["name"])
    mount, source = req.query.get("mount"), req.query.get("from")
    if mount and source and s.repos.mount(name, check_name(source), check_digest(mount)):
        return _blob_created(name, mount)
    digest = req.query.get("digest")
    uuid = s.uploads.create(name)
    if digest:
        check_digest(digest)
        try:
            await s.uploads.finish(name, uuid, digest, req.chunks(), None)
        except BaseException:
            with contextlib.suppress(RegistryError):
                s.uploads.cancel(name, uuid)
            raise
        s.repos.link_committed(name, digest)
        return _blob_created(name, digest)
    return _upload_status(202, name, uuid, 0)


def _chunk_start(req: Request) -> int | None:
    """Where the chunk must start, from Content-Range; checked against Content-Length."""
    header = req.header("content-range")
    if not header:
        return None
    start, end = content_range(header)
    length = req.header("content-length")
    if length and int(length) != end - start + 1:
        raise RegistryError(
            "BLOB_UPLOAD_INVALID",
            f"content range {header} does not match length {length}",
            status=416,
        )
    return start


async def upload_patch(s: Stores, req: Request, m: Match) -> Response:
    name, uuid = check_name(m["name"]), m["uuid"]
    offset = await s.uploads.append(name, uuid, req.chunks(), _chunk_start(req))
    return _upload_status(202, name, uuid, offset)


async def upload_put(s: Stores, req: Request, m: Match) -> Response:
    name, uuid = check_name(m["name"]), m["uuid"]
    digest = check_digest(req.query.get("digest", ""))
    chunks: AsyncIterator[bytes] = req.chunks()
    await s.uploads.finish(name, uuid, digest, chunks, _chunk_start(req))
    s.repos.link_committed(name, digest)
    return _blob_created(name, digest)


async def upload_get(s: Stores, req: Request, m: Match) -> Response:
    name, uuid = check_name(m["name"]), m["uuid"]
    return _upload_status(204, name, uuid, s.uploads.offset(name, uuid))


async def upload_delete(s: Stores, req: Request, m: Match) -> Response:
    name, uuid = check_name(m["name"]), m["uuid"]
    s.uploads.cancel(name, uuid)
    return Response(204)


__all__ = [
    "blob_delete",
    "blob_get",
    "upload_delete",
    "upload_get",
    "upload_patch",
    "upload_put",
    "upload_start",
]
