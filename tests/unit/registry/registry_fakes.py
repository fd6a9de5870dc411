"""Helpers for an in-process registry: `RegistryApp.handle` called with hand-made requests (no sockets)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

from dockwright.registry.app import RegistryApp
from dockwright.registry.http import FileBody, Request, Response


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_request(method: str, target: str, body: bytes = b"", headers: dict | None = None):
    path, _, qs = target.partition("?")

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 7):
            yield body[i : i + 7]

    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    return Request(method, path, dict(parse_qsl(qs)), hdrs, chunks)


@dataclass
class Client:
    app: RegistryApp

    def __call__(self, method: str, target: str, body: bytes = b"", **headers: str) -> Response:
        hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
        r = asyncio.run(self.app.handle(make_request(method, target, body, hdrs)))
        if isinstance(r.body, FileBody) and r.body.file is not None:
            r.body.file.close()  # what the server does once the body is sent
            r.body = FileBody(r.body.path, r.body.offset, r.body.length)
        return r

    def push_blob(self, name: str, data: bytes) -> str:
        d = digest(data)
        r = self("POST", f"/v2/{name}/blobs/uploads/?digest={d}", data)
        assert r.status == 201, r.body
        return d

    def push_image(
        self, name: str, ref: str, layer: bytes = b"layer", **extra
    ) -> tuple[str, bytes]:
        cfg = b'{"os":"linux"}'
        doc = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": self.push_blob(name, cfg),
                "size": len(cfg),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": self.push_blob(name, layer),
                    "size": len(layer),
                }
            ],
            **extra,
        }
        body = json.dumps(doc).encode()
        r = self(
            "PUT",
            f"/v2/{name}/manifests/{ref}",
            body,
            content_type="application/vnd.oci.image.manifest.v1+json",
        )
        assert r.status == 201, r.body
        return digest(body), body


def header(r: Response, name: str) -> str | None:
    return next((v for k, v in r.headers if k.lower() == name.lower()), None)


def codes(r: Response) -> list[str]:
    return [e["code"] for e in json.loads(r.body)["errors"]]


def body_of(r: Response) -> bytes:
    if isinstance(r.body, bytes):
        return r.body
    with r.body.path.open("rb") as f:
        f.seek(r.body.offset)
        return f.read(r.body.length)


async def apush_image(app: RegistryApp, name: str, tag: str, layers: list[bytes]) -> str | None:
    """Push an image with awaits between the steps; the manifest digest, or None if refused."""

    async def call(method: str, target: str, body: bytes = b"", **headers: str) -> Response:
        hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
        return await app.handle(make_request(method, target, body, hdrs))

    cfg = json.dumps({"tag": tag}).encode()
    descs = []
    for data in [cfg, *layers]:
        d = digest(data)
        if (await call("HEAD", f"/v2/{name}/blobs/{d}")).status != 200:
            r = await call("POST", f"/v2/{name}/blobs/uploads/?digest={d}", data)
            if r.status == 400 and b"BLOB_UPLOAD_INVALID" in r.body:
                return None  # collected between commit and link (grace 0): retry the push
            assert r.status == 201, r.body
        descs.append({"mediaType": "application/octet-stream", "digest": d, "size": len(data)})
        await asyncio.sleep(0)
    doc = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descs[0],
        "layers": descs[1:],
    }
    body = json.dumps(doc).encode()
    r = await call(
        "PUT",
        f"/v2/{name}/manifests/{tag}",
        body,
        content_type="application/vnd.oci.image.manifest.v1+json",
    )
    if r.status == 400 and b"MANIFEST_BLOB_UNKNOWN" in r.body:
        return None
    assert r.status == 201, r.body
    return digest(body)
