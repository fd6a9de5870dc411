"""Manifest routes (GET/HEAD/PUT/DELETE), tags list, catalog and the referrers API."""

from __future__ import annotations

import hashlib

from dockwright.registry.core import Stores, json_response
from dockwright.registry.errors import RegistryError
from dockwright.registry.http import FileBody, Request, Response
from dockwright.registry.manifests import MAX_MANIFEST, OCI_INDEX, accepts
from dockwright.registry.names import check_digest, check_name, check_reference, is_digest
from dockwright.registry.paging import link_header, page_args, paginate
from dockwright.registry.repos import manifest_unknown

Match = dict[str, str]


async def manifest_get(s: Stores, req: Request, m: Match) -> Response:
    name, ref = check_name(m["name"]), check_reference(m["ref"])
    digest, media_type, size = s.repos.manifest(name, ref)
    if not is_digest(ref) and not accepts([req.header("accept")], media_type):
        raise manifest_unknown(ref)
    headers = [
        ("Content-Type", media_type),
        ("Docker-Content-Digest", digest),
        ("ETag", f'"{digest}"'),
    ]
    if req.method == "HEAD":  # the server sends Content-Length, not the body
        return Response(200, headers, FileBody(s.blobs.path(digest), 0, size))
    return Response(200, headers, s.blobs.read(digest))


async def manifest_put(s: Stores, req: Request, m: Match) -> Response:
    name, ref = check_name(m["name"]), check_reference(m["ref"])
    body = await req.read(MAX_MANIFEST)
    if body is None:
        raise RegistryError(
            "SIZE_INVALID", f"manifest larger than {MAX_MANIFEST} bytes", status=413
        )
    alg = ref.partition(":")[0] if is_digest(ref) else "sha256"
    digest = f"{alg}:{hashlib.new(alg, body).hexdigest()}"
    manifest = s.repos.put_manifest(name, ref, body, req.header("content-type"), digest)
    headers = [("Location", f"/v2/{name}/manifests/{digest}"), ("Docker-Content-Digest", digest)]
    if manifest.subject:
        headers.append(("OCI-Subject", manifest.subject))
    return Response(201, headers)


async def manifest_delete(s: Stores, req: Request, m: Match) -> Response:
    name, ref = check_name(m["name"]), check_reference(m["ref"])
    s.repos.delete_manifest(name, ref)
    return Response(202)


async def tags_list(s: Stores, req: Request, m: Match) -> Response:
    name = check_name(m["name"])
    n, last = page_args(req.query)
    page, more = paginate(s.repos.tags(name), n, last)
    headers = [("Link", link_header(f"/v2/{name}/tags/list", n, page))] if more else []
    return json_response(200, {"name": name, "tags": page}, headers)


async def catalog(s: Stores, req: Request, m: Match) -> Response:
    n, last = page_args(req.query)
    page, more = paginate(s.repos.catalog(), n, last)
    headers = [("Link", link_header("/v2/_catalog", n, page))] if more else []
    return json_response(200, {"repositories": page}, headers)


async def referrers(s: Stores, req: Request, m: Match) -> Response:
    name, digest = check_name(m["name"]), check_digest(m["digest"])
    artifact_type = req.query.get("artifactType") or None
    found = s.repos.referrers(name, digest, artifact_type)
    headers = [("Content-Type", OCI_INDEX)]
    if artifact_type:
        headers.append(("OCI-Filters-Applied", "artifactType"))
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": found}
    response = json_response(200, index)
    response.headers = headers
    return response


__all__ = [
    "catalog",
    "manifest_delete",
    "manifest_get",
    "manifest_put",
    "referrers",
    "tags_list",
]
