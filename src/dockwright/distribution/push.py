"""Push an image: send the blobs the registry lacks, then the config and the manifest.

Blocking; run in worker threads. `prepare` resolves the local images before any message is
streamed (404 "An image does not exist locally with the tag"). `run` pushes one tag: every layer
is checked with HEAD first and uploaded (monolithically, in parallel) only when missing; the
manifest digest is recorded as the image's repo digest.
"""

from __future__ import annotations

import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from dockwright.distribution import auth, manifest
from dockwright.distribution import progress as pg
from dockwright.distribution.blobsource import layer_blob
from dockwright.distribution.client import RegistryClient, RegistryError
from dockwright.distribution.endpoint import endpoints
from dockwright.distribution.stores import Stores
from dockwright.errors import DockwrightError, NotFound, SystemError_
from dockwright.image.layers import Layer
from dockwright.image.reference import Reference

CHUNKED_ABOVE = 1 << 30  # larger blobs go in PATCHes: proxies often cap one request's body
CHUNK_SIZE = 64 << 20


class Cancelled(DockwrightError):
    """The client went away; the push stopped."""


@dataclass(frozen=True)
class Job:
    client: RegistryClient
    refs: tuple[Reference, ...]  # the tags to push
    images: dict[Reference, str]  # tag → image id


def prepare(stores: Stores, ref: Reference, creds: auth.Credentials,
            insecure: tuple[str, ...] = ()) -> Job:  # fmt: skip
    """The tags to push (all of the repository's when `ref` has no tag) and their images."""
    refs = [ref] if ref.tag else _repo_tags(stores, ref)
    if not refs:
        raise NotFound(f"An image does not exist locally with the tag: {ref.familiar_name}")
    images: dict[Reference, str] = {}
    for r in refs:
        try:
            images[r] = stores.images.resolve(str(r))
        except NotFound:
            raise NotFound(
                f"An image does not exist locally with the tag: {r.familiar()}"
            ) from None
    client = RegistryClient(endpoints(ref.domain, insecure)[-1], ref.path, creds, "pull,push")
    return Job(client, tuple(refs), images)


def _repo_tags(stores: Stores, ref: Reference) -> list[Reference]:
    return sorted({t for rec in stores.images.all() for t in rec.tags if t.name == ref.name},
                  key=str)  # fmt: skip


def run(job: Job, ref: Reference, stores: Stores, report: pg.Report, cancel: threading.Event,
        parallel: int = 3) -> str:  # fmt: skip
    """Push one tag; returns the manifest digest."""
    image_id = job.images[ref]
    layers = list(reversed(stores.images.layers_of(image_id)))
    for layer in layers:
        report(pg.status("Preparing", pg.short_id(layer.diff_id)))
    try:
        with ThreadPoolExecutor(max_workers=max(parallel, 1), thread_name_prefix="push") as pool:
            futs = [pool.submit(_push_layer, job.client, stores, layer, report, cancel)
                    for layer in layers]  # fmt: skip
            descs = [f.result() for f in futs]
        config = stores.content.read(image_id)
        _push_config(job.client, image_id, config)
    except RegistryError as exc:
        cancel.set()
        raise SystemError_(_push_error(ref, exc)) from None
    except OSError as exc:
        cancel.set()
        raise SystemError_(str(exc)) from None
    return _put_manifest(job, ref, stores, image_id, config, descs, report)


def _push_error(ref: Reference, exc: RegistryError) -> str:
    if exc.status in (401, 403):
        return f"denied: requested access to the resource is denied ({exc.message})"
    return f"error pushing {ref.familiar()}: {exc.message}"


def _push_layer(client: RegistryClient, stores: Stores, layer: Layer, report: pg.Report,
                cancel: threading.Event) -> manifest.Descriptor:  # fmt: skip
    sid = pg.short_id(layer.diff_id)
    if cancel.is_set():
        raise Cancelled("push cancelled")
    blob = layer_blob(stores, layer)
    desc = manifest.Descriptor(blob.media_type, blob.digest, blob.size)
    here = f"{client.endpoint.domain}/{client.repository}"
    if client.has_blob(blob.digest):
        report(pg.status("Layer already exists", sid))
    else:
        source = _mount_source(stores, blob.digest, client.endpoint.domain, here)
        with stores.content.open(blob.digest) as f:
            reader = _Metered(f, pg.Meter(report, "Pushing", sid, blob.size), cancel)
            chunk = CHUNK_SIZE if blob.size > CHUNKED_ABOVE else None
            mounted = client.upload_blob(blob.digest, blob.size, reader, source, chunk)  # type: ignore[arg-type]
        report(pg.status(f"Mounted from {source}" if mounted else "Pushed", sid))
    stores.images.blobs.add_source(blob.digest, here)
    return desc


def _mount_source(stores: Stores, digest: str, domain: str, here: str) -> str | None:
    """Another repository of the same registry known to hold the blob (path only)."""
    for repo in stores.images.blobs.sources(digest):
        if repo != here and repo.startswith(domain + "/"):
            return repo.removeprefix(domain + "/")
    return None


class _Metered:
    """A file wrapper that reports upload progress and stops on cancel."""

    def __init__(self, f: BinaryIO, meter: pg.Meter, cancel: threading.Event) -> None:
        self.f, self.meter, self.cancel = f, meter, cancel

    def read(self, n: int = -1) -> bytes:
        if self.cancel.is_set():
            raise Cancelled("push cancelled")
        data = self.f.read(n)
        self.meter.add(len(data))
        return data


def _push_config(client: RegistryClient, image_id: str, config: bytes) -> None:
    if not client.has_blob(image_id):
        client.upload_blob(image_id, len(config), io.BytesIO(config))


def _put_manifest(job: Job, ref: Reference, stores: Stores, image_id: str, config: bytes,
                  layers: list[manifest.Descriptor], report: pg.Report) -> str:  # fmt: skip
    oci = any(d.media_type == manifest.OCI_LAYER_ZSTD for d in layers)
    body, media = manifest.encode_manifest(
        manifest.Descriptor(manifest.DOCKER_CONFIG, image_id, len(config)), layers, oci
    )
    try:
        job.client.put_manifest(ref.tag or "latest", body, media)
    except RegistryError as exc:
        raise SystemError_(_push_error(ref, exc)) from None
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    stores.images.tag(image_id, Reference(ref.domain, ref.path, None, digest))
    tag = ref.tag or "latest"
    report(pg.status(f"{tag}: digest: {digest} size: {len(body)}", detail=False))
    report({"progressDetail": {}, "aux": {"Tag": tag, "Digest": digest, "Size": len(body)}})
    return digest
