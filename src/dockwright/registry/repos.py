"""Repositories: which blobs and manifests each one holds, its tags, its referrers; the catalog.

Blobs and manifests themselves live once in the `BlobStore`; a repository holds *links* to
them (see `dockwright.registry.layout`). Every link and tag file is written by `_atomic_write`
(temp file, fsync, rename), so a crash leaves either the old or the new version.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dockwright.registry.blobs import BlobStore, fsync_path
from dockwright.registry.errors import RegistryError
from dockwright.registry.layout import Layout
from dockwright.registry.manifests import (
    MAX_MANIFEST,
    Manifest,
    parse_manifest,
    referrer_descriptor,
)
from dockwright.registry.names import check_digest, is_digest


def _atomic_write(layout: Layout, path: Path, data: bytes) -> None:
    tmp = layout.tmp / f"link-{os.getpid()}-{os.urandom(8).hex()}"
    try:
        with tmp.open("xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        path.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_path(path.parent, directory=True)


def manifest_unknown(ref: str) -> RegistryError:
    return RegistryError("MANIFEST_UNKNOWN", f"manifest unknown: {ref}", {"reference": ref})


class RepoStore:
    """Per-repository state over a shared `BlobStore`."""

    def __init__(self, layout: Layout, blobs: BlobStore) -> None:
        self.layout = layout
        self.blobs = blobs
        # while a garbage collection runs: every digest a request used, which it must keep
        self.touched: set[str] | None = None

    def _touch(self, *digests: str) -> None:
        if self.touched is not None:
            self.touched.update(digests)

    # -- blobs ---------------------------------------------------------------------------

    def link_blob(self, name: str, digest: str) -> None:
        self._touch(digest)
        link = self.layout.layer_link(name, digest)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.touch()

    def link_committed(self, name: str, digest: str) -> None:
        """Link a just-committed blob, unless a garbage collection removed it meanwhile."""
        if self.blobs.size(digest) is None:
            raise RegistryError(
                "BLOB_UPLOAD_INVALID", f"blob {digest} was removed while committing; retry"
            )
        self.link_blob(name, digest)

    def blob_size(self, name: str, digest: str) -> int:
        """Size of a blob (or manifest) this repository holds; BLOB_UNKNOWN otherwise."""
        self._touch(digest)
        linked = self.layout.layer_link(name, digest).exists()
        if linked or self.layout.manifest_link(name, digest).exists():
            size = self.blobs.size(digest)
            if size is not None:
                return size
        raise RegistryError("BLOB_UNKNOWN", f"blob unknown: {digest}", {"digest": digest})

    def mount(self, name: str, source: str, digest: str) -> bool:
        """Link a blob that repository `source` holds into `name`; False when it cannot."""
        try:
            self.blob_size(source, digest)
        except RegistryError:
            return False
        self.link_blob(name, digest)
        return True

    def unlink_blob(self, name: str, digest: str) -> None:
        link = self.layout.layer_link(name, digest)
        if not link.exists():
            raise RegistryError("BLOB_UNKNOWN", f"blob unknown: {digest}", {"digest": digest})
        link.unlink()

    # -- manifests -----------------------------------------------------------------------

    def put_manifest(
        self,
        name: str,
        ref: str,
        body: bytes,
        content_type: str,
        digest: str,
        *,
        check_refs: bool = True,
    ) -> Manifest:
        """Store a manifest (its digest already computed by the caller) and tag it.

        `check_refs=False` is for the pull-through cache, which fetches blobs lazily.
        """
        if len(body) > MAX_MANIFEST:
            raise RegistryError("SIZE_INVALID", "manifest too large", status=413)
        if is_digest(ref) and ref != digest:
            raise RegistryError(
                "DIGEST_INVALID", f"manifest digest {digest} does not match reference {ref}"
            )
        manifest = parse_manifest(body, content_type)
        self._touch(digest, *manifest.blobs, *manifest.manifests)
        if check_refs:
            self._check_references(name, manifest)
        self.blobs.put_bytes(body, digest)
        _atomic_write(
            self.layout, self.layout.manifest_link(name, digest), manifest.media_type.encode()
        )
        if manifest.subject:
            desc = referrer_descriptor(manifest, digest, len(body))
            path = self.layout.referrer(name, manifest.subject, digest)
            _atomic_write(self.layout, path, json.dumps(desc).encode())
        if not is_digest(ref):
            _atomic_write(self.layout, self.layout.tag(name, ref), digest.encode())
        return manifest

    def _check_references(self, name: str, m: Manifest) -> None:
        missing = [("blob", d) for d in m.blobs if not self._has_blob(name, d)]
        missing += [("manifest", d) for d in m.manifests if not self._has_manifest(name, d)]
        if missing:
            details = [{"digest": d, "kind": kind} for kind, d in missing]
            raise RegistryError(
                "MANIFEST_BLOB_UNKNOWN",
                f"manifest references unknown {missing[0][0]} {missing[0][1]}",
                details[0],
                extra=[("MANIFEST_BLOB_UNKNOWN", d) for d in details[1:]],
            )

    def _has_blob(self, name: str, digest: str) -> bool:
        try:
            self.blob_size(name, digest)
        except RegistryError:
            return False
        return True

    def _has_manifest(self, name: str, digest: str) -> bool:
        return self.layout.manifest_link(name, digest).exists()

    def resolve(self, name: str, ref: str) -> str:
        """The digest `ref` (tag or digest) names in `name`; MANIFEST_UNKNOWN otherwise."""
        if is_digest(ref):
            digest = ref
        else:
            try:
                digest = self.layout.tag(name, ref).read_text()
            except (FileNotFoundError, NotADirectoryError):
                raise manifest_unknown(ref) from None
        if not self._has_manifest(name, digest):
            raise manifest_unknown(ref)
        self._touch(digest)
        return digest

    def manifest(self, name: str, ref: str) -> tuple[str, str, int]:
        """(digest, media type, size) of a manifest; MANIFEST_UNKNOWN when absent."""
        digest = self.resolve(name, ref)
        try:
            media_type = self.layout.manifest_link(name, digest).read_text()
        except FileNotFoundError:
            raise manifest_unknown(ref) from None
        size = self.blobs.size(digest)
        if size is None:
            raise manifest_unknown(ref)
        return digest, media_type, size

    def delete_manifest(self, name: str, ref: str) -> None:
        """Delete a tag (by tag) or a manifest with every tag and referrer entry of it."""
        digest = self.resolve(name, ref)
        if not is_digest(ref):
            self.layout.tag(name, ref).unlink(missing_ok=True)
            return
        for tag in self.tags(name):
            path = self.layout.tag(name, tag)
            if path.read_text() == digest:
                path.unlink(missing_ok=True)
        self._drop_referrer(name, digest)
        self.layout.manifest_link(name, digest).unlink(missing_ok=True)

    def _drop_referrer(self, name: str, digest: str) -> None:
        try:
            media_type = self.layout.manifest_link(name, digest).read_text()
            m = parse_manifest(self.blobs.read(digest), media_type)
        except (RegistryError, FileNotFoundError):
            return
        if m.subject:
            self.layout.referrer(name, m.subject, digest).unlink(missing_ok=True)

    # -- listing -------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        return self.layout.repo(name).is_dir()

    def tags(self, name: str) -> list[str]:
        """Sorted tags of `name`; NAME_UNKNOWN when the repository does not exist."""
        if not self.exists(name):
            raise RegistryError(
                "NAME_UNKNOWN", f"repository name not known: {name}", {"name": name}
            )
        try:
            return sorted(os.listdir(self.layout.tags_dir(name)))
        except FileNotFoundError:
            return []

    def catalog(self) -> list[str]:
        """Every repository name, sorted."""
        root = self.layout.repositories
        names = []
        for dirpath, dirnames, _ in os.walk(root):
            if any(d.startswith("_") for d in dirnames):
                names.append(os.path.relpath(dirpath, root))
            dirnames[:] = [d for d in dirnames if not d.startswith("_")]
        return sorted(names)

    def referrers(self, name: str, subject: str, artifact_type: str | None) -> list[dict[str, Any]]:
        """Descriptors of manifests in `name` whose subject is `subject`, optionally filtered."""
        directory = self.layout.referrers_dir(name, check_digest(subject))
        out = []
        for path in sorted(directory.glob("*")) if directory.is_dir() else []:
            desc = json.loads(path.read_bytes())
            if artifact_type and desc.get("artifactType") != artifact_type:
                continue
            if self._has_manifest(name, desc["digest"]):
                out.append(desc)
        return out


__all__ = ["RepoStore"]
