"""`docker save`: images to one tar, in the layout dockerd 25+ writes (docker-archive + OCI).

::

    blobs/sha256/<hex>   configs, uncompressed layer tars (named by diff_id), OCI manifests
    index.json           OCI index: one manifest per saved reference (or image)
    manifest.json        docker-archive: [{"Config", "RepoTags", "Layers"}]
    oci-layout           {"imageLayoutVersion": "1.0.0"}
    repositories         legacy {"repo": {"tag": "<top layer hex>"}}

Blocking: the archive is written to a file the caller owns (streamed to the client after).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from dockwright.distribution import manifest
from dockwright.distribution.blobsource import CHUNK
from dockwright.distribution.stores import Stores
from dockwright.errors import InvalidParameter, NotFound
from dockwright.image.decompress import decompressed
from dockwright.image.layers import Layer
from dockwright.image.reference import Reference, parse_any
from dockwright.image.tardiff import tar_diff
from dockwright.store.pump import ChunkReader

NAME_ANNOTATION = "io.containerd.image.name"
REF_ANNOTATION = "org.opencontainers.image.ref.name"


def plan_save(stores: Stores, names: list[str]) -> dict[str, list[Reference]]:
    """image id → tags to save it under; a bare repository name means all its tags."""
    if not names:
        raise InvalidParameter("no images to save: give at least one name")
    images: dict[str, list[Reference]] = {}
    for name in names:
        ref = parse_any(name)
        if isinstance(ref, str) or ref.digest:
            images.setdefault(stores.images.resolve(name), [])
            continue
        tags = [ref] if ref.tag else _repo_tags(stores, ref)
        if not tags:
            tags = [ref.with_default_tag()]
        for tag in tags:
            images.setdefault(stores.images.resolve(str(tag)), []).append(tag)
    return images


def _repo_tags(stores: Stores, ref: Reference) -> list[Reference]:
    return sorted({t for rec in stores.images.all() for t in rec.tags if t.name == ref.name},
                  key=str)  # fmt: skip


def write_archive(stores: Stores, names: list[str], out: BinaryIO) -> None:
    """Write the archive of `names` to `out`."""
    images = plan_save(stores, names)
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        writer = _Writer(tf)
        entries: list[dict[str, Any]] = []
        index: list[dict[str, Any]] = []
        repos: dict[str, dict[str, str]] = {}
        for image_id, refs in images.items():
            entry, descs = _save_image(stores, writer, image_id, refs)
            entries.append(entry)
            index += descs
            top = entry["Layers"][-1].rsplit("/", 1)[-1] if entry["Layers"] else ""
            for r in refs:
                repos.setdefault(r.familiar_name, {})[r.tag or "latest"] = top
        writer.add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        writer.add("index.json", _json({"schemaVersion": 2, "mediaType": manifest.OCI_INDEX,
                                        "manifests": index}))  # fmt: skip
        writer.add("manifest.json", _json(entries))
        writer.add("repositories", _json(repos))


def _json(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def _save_image(stores: Stores, writer: _Writer, image_id: str,
                refs: list[Reference]) -> tuple[dict[str, Any], list[dict[str, Any]]]:  # fmt: skip
    config = stores.content.read(image_id)
    writer.blob(image_id, config)
    layers = list(reversed(stores.images.layers_of(image_id)))
    descs = []
    for layer in layers:
        size = writer.layer(stores, layer)
        descs.append(manifest.Descriptor(manifest.OCI_LAYER, layer.diff_id, size))
    body, media = manifest.encode_manifest(
        manifest.Descriptor(manifest.DOCKER_CONFIG, image_id, len(config)), descs, oci=True
    )
    digest = writer.blob_bytes(body)
    entry = {"Config": _path(image_id), "RepoTags": [r.familiar() for r in refs],
             "Layers": [_path(layer.diff_id) for layer in layers]}  # fmt: skip
    base = {"mediaType": media, "digest": digest, "size": len(body)}
    index = [{**base, "annotations": {NAME_ANNOTATION: str(r), REF_ANNOTATION: r.tag or "latest"}}
             for r in refs] or [base]  # fmt: skip
    return entry, index


def _path(digest: str) -> str:
    return "blobs/sha256/" + digest.removeprefix("sha256:")


class _Writer:
    """Adds files and blobs to the tar, each blob once."""

    def __init__(self, tf: tarfile.TarFile) -> None:
        self.tf = tf
        self.written: set[str] = set()
        self._dirs()

    def _dirs(self) -> None:
        for d in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            self.tf.addfile(info)

    def add(self, name: str, data: bytes) -> None:
        self.add_file(name, len(data), io.BytesIO(data))

    def add_file(self, name: str, size: int, f: IO[bytes]) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode = size, 0o644
        self.tf.addfile(info, f)

    def blob(self, digest: str, data: bytes) -> None:
        if digest not in self.written:
            self.written.add(digest)
            self.add(_path(digest), data)

    def blob_bytes(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blob(digest, data)
        return digest

    def layer(self, stores: Stores, layer: Layer) -> int:
        """Add the layer's uncompressed tar (named by its diff_id); returns its size."""
        with tempfile.TemporaryFile(dir=stores.content.root) as spool:
            _spool_layer(stores, layer, spool)
            size = spool.tell()
            if layer.diff_id not in self.written:
                self.written.add(layer.diff_id)
                spool.seek(0)
                self.add_file(_path(layer.diff_id), size, spool)
            return size


def _spool_layer(stores: Stores, layer: Layer, out: IO[bytes]) -> None:
    sha = hashlib.sha256()
    for chunk in _layer_tar(stores, layer):
        sha.update(chunk)
        out.write(chunk)
    if "sha256:" + sha.hexdigest() != layer.diff_id:
        raise NotFound(f"layer {layer.diff_id} cannot be reproduced: its tar was not kept")


def _layer_tar(stores: Stores, layer: Layer) -> Iterator[bytes]:
    known = stores.images.blobs.find(layer.diff_id)
    if not known:
        yield from tar_diff(layer.path)
        return
    with stores.content.open(known[-1].digest) as f:
        reader = decompressed(ChunkReader(iter(lambda: f.read(CHUNK), b"")))
        while data := reader.read(CHUNK):
            yield data
