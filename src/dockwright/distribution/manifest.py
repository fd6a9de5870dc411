"""Image manifests and indexes, Docker v2 schema 2 and OCI: parsing and platform choice. Pure.

A registry answers a manifest request with one of four documents: a Docker manifest or manifest
list, or an OCI manifest or index. A list/index names one manifest per platform; we pick the one
for the requested platform (linux/amd64 by default, like dockerd on x86_64).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dockwright.errors import InvalidParameter, NotFound

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
FOREIGN_LAYERS = (
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
)

MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEXES = (DOCKER_LIST, OCI_INDEX)
LAYERS = (
    DOCKER_LAYER,
    DOCKER_LAYER_TAR,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    *FOREIGN_LAYERS,
)
ACCEPT = ", ".join((*MANIFESTS, *INDEXES))


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: what a manifest says about one blob."""

    media_type: str
    digest: str
    size: int
    platform: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest}
        out["size"] = self.size
        if self.platform:
            out["platform"] = self.platform
        return out


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True)
class Manifest:
    """An image manifest: the config blob and the layer blobs, base first."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True)
class Index:
    """A manifest list / image index: one manifest per platform."""

    media_type: str
    manifests: tuple[Descriptor, ...]


def parse_platform(text: str | None, default_arch: str = "amd64") -> Platform:
    """`linux/arm64/v8`, `linux/amd64` or empty (the default); InvalidParameter otherwise."""
    if not text:
        return Platform("linux", default_arch)
    parts = text.lower().split("/")
    if len(parts) > 3 or not all(parts):
        raise InvalidParameter(f"invalid platform {text!r}: expected os[/arch[/variant]]")
    arch = parts[1] if len(parts) > 1 else default_arch
    variant = parts[2] if len(parts) > 2 else ""
    return Platform(parts[0], _normalise_arch(arch), variant)


def _normalise_arch(arch: str) -> str:
    return {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm"}.get(
        arch, arch
    )


def _descriptor(raw: Any, what: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise InvalidParameter(f"invalid manifest: {what} is not an object")
    digest, size = raw.get("digest"), raw.get("size")
    if not isinstance(digest, str) or not isinstance(size, int) or size < 0:
        raise InvalidParameter(f"invalid manifest: {what} needs a digest and a size")
    if not digest.startswith("sha256:") or len(digest) != 71:
        raise InvalidParameter(f"unsupported digest {digest!r} in manifest")
    return Descriptor(str(raw.get("mediaType") or ""), digest, size, raw.get("platform"))


def parse(data: bytes, media_type: str = "") -> Manifest | Index:
    """The manifest or index in `data`; the body's mediaType wins over the HTTP header."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise InvalidParameter(f"invalid manifest json: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidParameter("invalid manifest: not a json object")
    kind = str(doc.get("mediaType") or media_type or "")
    if doc.get("schemaVersion") == 1:
        raise InvalidParameter("unsupported manifest: docker schema 1 manifests are not supported")
    if kind in INDEXES or (not kind and "manifests" in doc):
        items = doc.get("manifests") or []
        return Index(kind or OCI_INDEX, tuple(_descriptor(m, "manifest") for m in items))
    if kind in MANIFESTS or (not kind and "config" in doc):
        layers = tuple(_descriptor(x, "layer") for x in doc.get("layers") or [])
        return Manifest(kind or OCI_MANIFEST, _descriptor(doc.get("config"), "config"), layers)
    raise InvalidParameter(f"unsupported manifest media type {kind!r}")


def matches(desc: Descriptor, want: Platform) -> bool:
    """Does an index entry run on `want`? (arm64 without a variant means v8.)"""
    p = desc.platform or {}
    if p.get("os") != want.os or p.get("architecture") != want.architecture:
        return False
    variant = str(p.get("variant") or "")
    if not want.variant:
        return True
    if want.architecture == "arm64":
        return (variant or "v8") == want.variant
    return variant == want.variant


def select(index: Index, want: Platform) -> Descriptor:
    """The manifest of `index` for `want`; NotFound naming the platform when there is none."""
    for desc in index.manifests:
        if desc.media_type in INDEXES or (desc.platform or {}).get("os") == "unknown":
            continue  # nested indexes and attestation manifests
        if matches(desc, want):
            return desc
    raise NotFound(f"no matching manifest for {want} in the manifest list entries")


_TO_OCI = {DOCKER_LAYER: OCI_LAYER_GZIP, DOCKER_LAYER_TAR: OCI_LAYER, DOCKER_CONFIG: OCI_CONFIG}


def encode_manifest(config: Descriptor, layers: list[Descriptor],
                    oci: bool = False) -> tuple[bytes, str]:  # fmt: skip
    """(body, media type) of a Docker v2 schema 2 manifest, or an OCI one (needed for zstd
    layers), formatted as dockerd pushes it (3-space indent)."""
    media = OCI_MANIFEST if oci else DOCKER_MANIFEST

    def conv(d: Descriptor) -> dict[str, Any]:
        return Descriptor(_TO_OCI.get(d.media_type, d.media_type) if oci else d.media_type,
                          d.digest, d.size).to_json()  # fmt: skip

    doc = {"schemaVersion": 2, "mediaType": media, "config": conv(config),
           "layers": [conv(layer) for layer in layers]}  # fmt: skip
    return json.dumps(doc, indent=3).encode(), media
