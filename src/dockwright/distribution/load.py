"""`docker load`: images from a docker-archive (manifest.json) or an OCI layout (index.json).

The archive (plain or compressed) is spooled to a temporary directory under the layer store
(`.tmp-…`, swept at daemon start if we crash) because its index comes last. Only regular files
and symlinks that stay inside the archive are taken; anything else is ignored. Each layer is
unpacked unless its chain exists, checked against the config's diff_id, and its blob kept.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockwright.distribution import manifest
from dockwright.distribution.blobsource import CHUNK
from dockwright.distribution.pull import release_unused
from dockwright.distribution.stores import Stores
from dockwright.errors import InvalidParameter
from dockwright.image import config as cfg
from dockwright.image.blobs import LayerBlob
from dockwright.image.decompress import decompressed
from dockwright.image.keep import MEDIA_BY_KIND, stage_keeping_blob
from dockwright.image.layers import TMP_PREFIX, chain_id
from dockwright.image.reference import Reference, parse_normalized
from dockwright.store.pump import ChunkReader

NAME_ANNOTATION = "io.containerd.image.name"
REF_ANNOTATION = "org.opencontainers.image.ref.name"


@dataclass(frozen=True)
class ImageEntry:
    """One image of an archive: config and layer files (archive paths), tags to give it."""

    config: str
    layers: tuple[str, ...]
    tags: tuple[Reference, ...]
    layer_digests: tuple[str | None, ...]  # known blob digests (OCI), None when unknown


class Spool:
    """The archive's files on disk, read back by their names inside the archive."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.links: dict[str, str] = {}

    def add(self, tf: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        name = _clean(info.name)
        if name is None:
            return
        if info.issym():
            self.links[name] = posixpath.normpath(
                posixpath.join(posixpath.dirname(name), info.linkname)
            )
        elif info.isreg():
            dest = self.root / "f" / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(info)
            assert src is not None
            with dest.open("wb") as out:
                shutil.copyfileobj(src, out, CHUNK)

    def path(self, name: str) -> Path:
        for _ in range(16):
            if name not in self.links:
                break
            name = self.links[name]
        clean = _clean(name)
        path = self.root / "f" / clean if clean else None
        if path is None or not path.is_file():
            raise InvalidParameter(f"invalid archive: missing file {name!r}")
        return path

    def has(self, name: str) -> bool:
        try:
            self.path(name)
        except InvalidParameter:
            return False
        return True

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def chunks(self, name: str) -> Iterator[bytes]:
        with self.path(name).open("rb") as f:
            while data := f.read(CHUNK):
                yield data


def _clean(name: str) -> str | None:
    """The member's path inside the archive: `..` is resolved against the archive root, so
    nothing can point outside it; None for the root itself."""
    norm = posixpath.normpath("/" + name).lstrip("/")
    return norm or None


def load_archive(stores: Stores, chunks: Iterable[bytes]) -> list[str]:
    """Load every image of the archive; returns docker's "Loaded image…" lines."""
    root = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "load-", dir=stores.layers.root))
    try:
        spool = Spool(root)
        try:
            with tarfile.open(fileobj=decompressed(ChunkReader(chunks)), mode="r|") as tf:  # type: ignore[call-overload]
                for info in tf:
                    spool.add(tf, info)
        except (tarfile.TarError, EOFError) as exc:
            raise InvalidParameter(f"invalid archive: {exc}") from None
        return [_load_one(stores, spool, e) for e in entries(spool)]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def entries(spool: Spool) -> list[ImageEntry]:
    """The images an archive holds, from manifest.json (preferred) or index.json."""
    if spool.has("manifest.json"):
        doc = _json(spool.read("manifest.json"), "manifest.json")
        return [_docker_entry(item) for item in doc]
    if spool.has("index.json"):
        return _oci_entries(spool, _json(spool.read("index.json"), "index.json"))
    raise InvalidParameter("invalid archive: no manifest.json or index.json")


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise InvalidParameter(f"invalid archive: {what}: {exc}") from None


def _docker_entry(item: Any) -> ImageEntry:
    if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
        raise InvalidParameter("invalid archive: manifest.json entry without Config")
    layers = tuple(str(x) for x in item.get("Layers") or [])
    tags = tuple(parse_normalized(t).with_default_tag() for t in item.get("RepoTags") or [])
    return ImageEntry(item["Config"], layers, tags, (None,) * len(layers))


def _blob_path(digest: str) -> str:
    algorithm, _, hex_ = digest.partition(":")
    return f"blobs/{algorithm}/{hex_}"


def _oci_entries(spool: Spool, index: Any) -> list[ImageEntry]:
    out = []
    for desc in (index or {}).get("manifests") or []:
        body = spool.read(_blob_path(str(desc.get("digest"))))
        doc = manifest.parse(body, str(desc.get("mediaType") or ""))
        if isinstance(doc, manifest.Index):
            chosen = manifest.select(doc, manifest.parse_platform(None, cfg.host_arch()))
            doc = manifest.parse(spool.read(_blob_path(chosen.digest)), chosen.media_type)
        if not isinstance(doc, manifest.Manifest):
            raise InvalidParameter("invalid archive: nested index")
        tags = _oci_tags(desc.get("annotations") or {})
        layers = tuple(_blob_path(x.digest) for x in doc.layers)
        out.append(ImageEntry(_blob_path(doc.config.digest), layers, tags,
                              tuple(x.digest for x in doc.layers)))  # fmt: skip
    return out


def _oci_tags(annotations: dict[str, str]) -> tuple[Reference, ...]:
    """containerd's image name annotation, else a ref.name that is a whole reference."""
    name = annotations.get(NAME_ANNOTATION) or annotations.get(REF_ANNOTATION) or ""
    if not name or not any(c in name for c in "/:"):
        return ()  # a bare tag ("latest") names no repository
    try:
        return (parse_normalized(name).with_default_tag(),)
    except InvalidParameter:
        return ()


def _load_one(stores: Stores, spool: Spool, entry: ImageEntry) -> str:
    config = spool.read(entry.config)
    diff_ids = cfg.diff_ids(_json(config, entry.config))
    if len(diff_ids) != len(entry.layers):
        raise InvalidParameter(f"invalid archive: {entry.config} names {len(diff_ids)} layers, "
                               f"the manifest {len(entry.layers)}")  # fmt: skip
    top = _load_layers(stores, spool, entry, diff_ids)
    try:
        image_id = stores.images.create(config)
    finally:
        release_unused(stores.layers, top)
    for tag in entry.tags:
        stores.images.tag(image_id, tag)
    if not entry.tags:
        return f"Loaded image ID: {image_id}"
    return "\n".join(f"Loaded image: {t.familiar()}" for t in entry.tags)


def _load_layers(stores: Stores, spool: Spool, entry: ImageEntry,
                 diff_ids: list[str]) -> str | None:  # fmt: skip
    parent: str | None = None
    committed: str | None = None
    try:
        for path, diff_id, digest in zip(entry.layers, diff_ids, entry.layer_digests, strict=True):
            chain = chain_id(parent, diff_id)
            if not stores.layers.has(chain):
                kept = stage_keeping_blob(stores.layers, stores.content, spool.chunks(path), digest)
                if kept.staged.diff_id != diff_id:
                    stores.layers.discard(kept.staged)
                    raise InvalidParameter(f"invalid archive: layer {path} is {kept.staged.diff_id}"
                                           f", the config expects {diff_id}")  # fmt: skip
                committed = stores.layers.commit(kept.staged, parent).chain_id
                media = MEDIA_BY_KIND.get(kept.kind, "")
                stores.images.blobs.record(LayerBlob(diff_id, kept.blob.digest, media,
                                                     kept.blob.size))  # fmt: skip
            parent = chain
    except BaseException:
        release_unused(stores.layers, committed)
        raise
    return parent
