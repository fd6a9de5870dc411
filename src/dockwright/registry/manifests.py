"""Manifest parsing (pure): the media type, what a manifest references, its subject.

Four manifest types are accepted: Docker v2 schema 2 and its manifest list, OCI image manifest
and OCI index (including artifact manifests with `artifactType`). The bytes are stored exactly
as pushed; this module only reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dockwright.registry.errors import RegistryError
from dockwright.registry.names import is_digest

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
IMAGE_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
INDEX_TYPES = frozenset({DOCKER_LIST, OCI_INDEX})
MANIFEST_TYPES = IMAGE_TYPES | INDEX_TYPES
MAX_MANIFEST = 4 << 20


@dataclass(frozen=True)
class Manifest:
    """What the registry needs from a manifest: type, referenced blobs and manifests, subject."""

    media_type: str
    blobs: tuple[str, ...] = ()
    manifests: tuple[str, ...] = ()
    subject: str | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)


def invalid(message: str) -> RegistryError:
    return RegistryError("MANIFEST_INVALID", message)


def parse_manifest(body: bytes, content_type: str) -> Manifest:
    """Parse and check a pushed manifest; MANIFEST_INVALID when it is not one we accept."""
    doc = _load(body)
    media_type = _media_type(doc, content_type.split(";")[0].strip())
    if media_type in IMAGE_TYPES:
        return _image(doc, media_type)
    return _index(doc, media_type)


def _load(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise invalid("manifest is not valid json") from None
    if not isinstance(doc, dict):
        raise invalid("manifest is not a json object")
    if doc.get("schemaVersion") != 2:
        raise invalid(f"unsupported manifest schemaVersion {doc.get('schemaVersion')!r}")
    return doc


def _media_type(doc: dict[str, Any], content_type: str) -> str:
    """The body's mediaType wins; it must agree with Content-Type when both name a manifest."""
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise invalid("manifest mediaType is not a string")
    if declared and content_type in MANIFEST_TYPES and declared != content_type:
        raise invalid(f"manifest mediaType {declared} does not match content type {content_type}")
    media_type = declared or (content_type if content_type in MANIFEST_TYPES else _guess(doc))
    if media_type not in MANIFEST_TYPES:
        raise invalid(f"unsupported manifest media type {media_type!r}")
    return media_type


def _guess(doc: dict[str, Any]) -> str:
    """OCI manifests may omit mediaType; tell them apart by shape."""
    if "manifests" in doc:
        return OCI_INDEX
    if "config" in doc:
        return OCI_MANIFEST
    return ""


def _descriptor_digest(desc: Any, where: str) -> str:
    if not isinstance(desc, dict):
        raise invalid(f"manifest {where} is not a descriptor")
    digest = desc.get("digest")
    size = desc.get("size")
    if not isinstance(digest, str) or not is_digest(digest):
        raise invalid(f"manifest {where} has an invalid digest {digest!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise invalid(f"manifest {where} has an invalid size {size!r}")
    return digest


def _list(doc: dict[str, Any], key: str, required: bool) -> list[Any]:
    value = doc.get(key, None if required else [])
    if not isinstance(value, list):
        raise invalid(f"manifest {key} is not a list")
    return value


def _image(doc: dict[str, Any], media_type: str) -> Manifest:
    blobs = [_descriptor_digest(doc.get("config"), "config")]
    for i, layer in enumerate(_list(doc, "layers", media_type == DOCKER_MANIFEST)):
        digest = _descriptor_digest(layer, f"layers[{i}]")
        if not layer.get("urls"):  # foreign layers live elsewhere
            blobs.append(digest)
    config_type = doc["config"].get("mediaType")
    return Manifest(
        media_type,
        blobs=tuple(blobs),
        subject=_subject(doc),
        artifact_type=_artifact_type(doc)
        or (config_type if isinstance(config_type, str) else None),
        annotations=_annotations(doc),
    )


def _index(doc: dict[str, Any], media_type: str) -> Manifest:
    items = _list(doc, "manifests", True)
    digests = [_descriptor_digest(m, f"manifests[{i}]") for i, m in enumerate(items)]
    return Manifest(
        media_type,
        manifests=tuple(digests),
        subject=_subject(doc),
        artifact_type=_artifact_type(doc),
        annotations=_annotations(doc),
    )


def _subject(doc: dict[str, Any]) -> str | None:
    if doc.get("subject") is None:
        return None
    return _descriptor_digest(doc["subject"], "subject")


def _artifact_type(doc: dict[str, Any]) -> str | None:
    value = doc.get("artifactType")
    if value is not None and not isinstance(value, str):
        raise invalid("manifest artifactType is not a string")
    return value or None


def _annotations(doc: dict[str, Any]) -> dict[str, str]:
    value = doc.get("annotations") or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid("manifest annotations are not a map of strings")
    return value


def referrer_descriptor(m: Manifest, digest: str, size: int) -> dict[str, Any]:
    """The descriptor the referrers API lists for manifest `m`."""
    desc: dict[str, Any] = {"mediaType": m.media_type, "digest": digest, "size": size}
    if m.artifact_type:
        desc["artifactType"] = m.artifact_type
    if m.annotations:
        desc["annotations"] = m.annotations
    return desc


def accepts(accept: list[str], media_type: str) -> bool:
    """Whether a client's Accept values admit `media_type` (no Accept admits everything)."""
    types = {a.split(";")[0].strip() for value in accept for a in value.split(",")}
    types.discard("")
    # image manifests are always served; an index or list only to clients that name it
    return not types or "*/*" in types or media_type in types or media_type not in INDEX_TYPES


__all__ = [
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "MAX_MANIFEST",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Manifest",
    "accepts",
    "parse_manifest",
    "referrer_descriptor",
]
