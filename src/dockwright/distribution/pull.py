"""Pull an image: resolve its manifest, fetch missing layers in parallel, register the image.

Blocking; the engine runs it in a worker thread and relays `report` messages to the client.
`resolve` does the requests that decide whether the pull can happen at all (so the API can answer
404 before streaming); `fetch` moves the layers. Each layer is downloaded, digest-checked while
it streams, and unpacked at once into a staged directory; staged layers are committed in order
(a chain needs its parent). On failure or cancellation every staged directory and every layer
committed by this pull that no image took is removed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from dockwright.distribution import auth, manifest, plan
from dockwright.distribution import progress as pg
from dockwright.distribution.client import RegistryClient, RegistryError
from dockwright.distribution.endpoint import endpoints
from dockwright.distribution.stores import Stores
from dockwright.errors import DockwrightError, InvalidParameter, NotFound, SystemError_
from dockwright.image import config as cfg
from dockwright.image.blobs import LayerBlob
from dockwright.image.keep import Kept, stage_keeping_blob
from dockwright.image.layers import LayerStore
from dockwright.image.reference import Reference
from dockwright.image.store import ImageStore


class Cancelled(DockwrightError):
    """The client went away; the pull stopped and cleaned up."""


@dataclass(frozen=True)
class Options:
    platform: manifest.Platform = manifest.Platform()
    creds: auth.Credentials = auth.ANONYMOUS
    insecure: tuple[str, ...] = ()
    mirrors: tuple[str, ...] = ()
    parallel: int = 3


@dataclass(frozen=True)
class Resolved:
    ref: Reference
    client: RegistryClient
    digest: str  # of the manifest (or index) the reference names
    manifest: manifest.Manifest
    config: bytes


def access_error(ref: Reference, exc: RegistryError) -> DockwrightError:
    """dockerd's wording for a manifest that cannot be had."""
    if "MANIFEST_UNKNOWN" in exc.codes or (exc.status == 404 and not exc.codes):
        return NotFound(f"manifest for {ref.familiar()} not found: {exc.message}")
    if exc.status in (401, 403, 404):
        return NotFound(
            f"pull access denied for {ref.familiar_name}, repository does not exist or may "
            f"require 'docker login': {exc.message}"
        )
    return SystemError_(f"error pulling {ref.familiar()}: {exc.message}")


def resolve(ref: Reference, opts: Options) -> Resolved:
    """Find the image's manifest for the platform and its config (verified by digest)."""
    last: DockwrightError = SystemError_(f"no endpoint for {ref.domain}")
    for ep in endpoints(ref.domain, opts.insecure, opts.mirrors):
        client = RegistryClient(ep, ref.path, opts.creds, "pull")
        try:
            return _resolve_at(client, ref, opts.platform)
        except RegistryError as exc:
            last = access_error(ref, exc)
        except OSError as exc:
            last = SystemError_(str(exc))
    raise last


def all_tags(ref: Reference, opts: Options) -> list[Reference]:
    """Every tag of the repository (`docker pull -a`), sorted; errors as `resolve`."""
    client = RegistryClient(endpoints(ref.domain, opts.insecure)[-1], ref.path, opts.creds, "pull")
    try:
        tags = client.list_tags()
    except RegistryError as exc:
        raise access_error(ref, exc) from None
    except OSError as exc:
        raise SystemError_(str(exc)) from None
    if not tags:
        raise NotFound(f"no tags found for {ref.familiar_name}")
    return [ref.with_tag(t) for t in sorted(tags)]


def _resolve_at(client: RegistryClient, ref: Reference, want: manifest.Platform) -> Resolved:
    body, media, _ = client.get_manifest(ref.digest or ref.tag or "latest")
    top = "sha256:" + hashlib.sha256(body).hexdigest()
    if ref.digest:
        plan.check_bytes(body, ref.digest, "manifest")
    doc = manifest.parse(body, media)
    if isinstance(doc, manifest.Index):
        chosen = manifest.select(doc, want)
        body, media, _ = client.get_manifest(chosen.digest)
        plan.check_bytes(body, chosen.digest, "manifest")
        doc = manifest.parse(body, media)
    if not isinstance(doc, manifest.Manifest):
        raise InvalidParameter("invalid manifest: an index names another index")
    config = client.open_blob(doc.config.digest).read()
    plan.check_bytes(config, doc.config.digest, "image config")
    return Resolved(ref, client, top, doc, config)


def fetch(res: Resolved, stores: Stores, report: pg.Report, cancel: threading.Event,
          parallel: int = 3) -> tuple[str, bool]:  # fmt: skip
    """Download what is missing, register the image and its references.

    Returns the image id and whether anything changed (a layer downloaded or the tag moved),
    which decides between docker's "Downloaded newer image" and "Image is up to date".
    """
    config = json.loads(res.config)
    steps = plan.plan_pull(res.manifest, cfg.diff_ids(config), stores.layers.has)
    for step in steps:
        report(pg.status("Already exists" if step.present else "Pulling fs layer",
                         pg.short_id(step.blob.digest)))  # fmt: skip
    missing = [s for s in steps if not s.present]
    for step in missing[parallel:]:
        report(pg.status("Waiting", pg.short_id(step.blob.digest)))
    before = _current(stores.images, res.ref)
    top = _fetch_layers(res.client, missing, stores, report, cancel, parallel)
    image_id = _register(res, stores, top)
    return image_id, bool(missing) or before != image_id


def _current(images: ImageStore, ref: Reference) -> str | None:
    try:
        return images.resolve(str(ref))
    except NotFound:
        return None


def _fetch_layers(client: RegistryClient, missing: list[plan.LayerStep], stores: Stores,
                  report: pg.Report, cancel: threading.Event, parallel: int) -> str | None:  # fmt: skip
    """Download and unpack in parallel, commit in order; the top new chain (or None)."""
    committed: str | None = None
    with ThreadPoolExecutor(max_workers=max(parallel, 1), thread_name_prefix="pull") as pool:
        futures = [pool.submit(_download, client, s, stores, report, cancel) for s in missing]
        try:
            for step, fut in zip(missing, futures, strict=True):
                kept = fut.result()
                layer = stores.layers.commit(kept.staged, step.parent)
                committed = layer.chain_id
                _record(stores, step, kept, f"{client.endpoint.domain}/{client.repository}")
                sid, size = pg.short_id(step.blob.digest), step.blob.size
                # the layer was unpacked while it streamed in: report the extraction as done,
                # so clients see docker's usual Download complete → Extracting → Pull complete
                report(pg.moving("Extracting", sid, size, size))
                report(pg.status("Pull complete", sid))
        except BaseException:
            cancel.set()
            _discard_all(futures, stores.layers)
            release_unused(stores.layers, committed)
            raise
    return committed


def _download(client: RegistryClient, step: plan.LayerStep, stores: Stores, report: pg.Report,
              cancel: threading.Event) -> Kept:  # fmt: skip
    sid = pg.short_id(step.blob.digest)
    if cancel.is_set():
        raise Cancelled("pull cancelled")
    reply = client.open_blob(step.blob.digest)
    meter = pg.Meter(report, "Downloading", sid, step.blob.size)
    chunks = _metered(reply.chunks(), meter, cancel)
    try:
        kept = stage_keeping_blob(stores.layers, stores.content, chunks, step.blob.digest,
                                  step.blob.size)  # fmt: skip
    except InvalidParameter as exc:
        raise InvalidParameter(f"layer {step.blob.digest}: {exc.message}") from None
    report(pg.status("Verifying Checksum", sid))
    report(pg.status("Download complete", sid))
    if kept.staged.diff_id != step.diff_id:
        stores.layers.discard(kept.staged)
        raise InvalidParameter(f"layer {step.blob.digest}: unpacked to {kept.staged.diff_id}, "
                               f"the image config expects {step.diff_id}")  # fmt: skip
    return kept


def _metered(chunks: Iterator[bytes], meter: pg.Meter,
             cancel: threading.Event) -> Iterator[bytes]:  # fmt: skip
    for chunk in chunks:
        if cancel.is_set():
            raise Cancelled("pull cancelled")
        meter.add(len(chunk))
        yield chunk


def _record(stores: Stores, step: plan.LayerStep, kept: Kept, source: str) -> None:
    media = step.blob.media_type or manifest.DOCKER_LAYER
    stores.images.blobs.record(LayerBlob(step.diff_id, kept.blob.digest, media, kept.blob.size))
    stores.images.blobs.add_source(kept.blob.digest, source)


def _discard_all(futures: list[Future[Kept]], layers: LayerStore) -> None:
    """Wait for every download and drop the staged ones that were not committed."""
    for fut in futures:
        fut.cancel()
    for fut in futures:
        if fut.cancelled():
            continue
        try:
            kept = fut.result()
        except BaseException:
            continue
        if kept.staged.tmp.exists():
            layers.discard(kept.staged)


def release_unused(layers: LayerStore, chain: str | None) -> None:
    """Remove the layers this pull committed that nothing references."""
    if chain is not None and layers.has(chain) and layers.refs(chain) == 0:
        layers.acquire(chain)
        layers.release(chain)
        layers.sweep()


def _register(res: Resolved, stores: Stores, top: str | None) -> str:
    """Create the image from its config, tag it and record its repo digest."""
    try:
        image_id = stores.images.create(res.config)
    finally:
        release_unused(stores.layers, top)
    if res.ref.tag and not res.ref.digest:
        stores.images.tag(image_id, res.ref)
    digest_ref = Reference(res.ref.domain, res.ref.path, None, res.digest)
    stores.images.tag(image_id, digest_ref)
    return image_id
