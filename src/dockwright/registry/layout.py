"""Where everything lives under the registry root (pure path functions, the `pathFor` idea).

    <root>/
      blobs/<alg>/<hex>                       every blob and manifest, stored once; the name
                                              is always the digest of the content
      uploads/<uuid>/data                     bytes of an upload in flight
      uploads/<uuid>/repo                     the repository the upload belongs to
      repositories/<name>/                    one directory per repository (names may nest)
        _layers/<alg>/<hex>                   empty file: the blob is in this repository
        _manifests/<alg>/<hex>                the manifest is in this repository; content is
                                              its media type
        _tags/<tag>                           content is the digest the tag points to
        _referrers/<alg>/<subject-hex>/<alg>-<hex>
                                              a descriptor (JSON) of a manifest whose
                                              `subject` is that digest
      tmp/                                    temp files that become links by rename

Link and tag files are written to `tmp/` and renamed into place, blobs are fsynced before
their rename: a killed server leaves either the old file or the new one, never a torn one.
`tmp/` and `uploads/` are the only places partial data can be, and neither is served.
"""

from __future__ import annotations

from pathlib import Path

from dockwright.registry.names import check_name, check_reference, split_digest


class Layout:
    """Paths under one root; every argument is validated before it becomes a path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.uploads = root / "uploads"
        self.repositories = root / "repositories"
        self.tmp = root / "tmp"

    def blob(self, digest: str) -> Path:
        alg, hexpart = split_digest(digest)
        return self.blobs / alg / hexpart

    def upload(self, uuid: str) -> Path:
        return self.uploads / uuid

    def repo(self, name: str) -> Path:
        return self.repositories / check_name(name)

    def layer_link(self, name: str, digest: str) -> Path:
        alg, hexpart = split_digest(digest)
        return self.repo(name) / "_layers" / alg / hexpart

    def manifest_link(self, name: str, digest: str) -> Path:
        alg, hexpart = split_digest(digest)
        return self.repo(name) / "_manifests" / alg / hexpart

    def manifests_dir(self, name: str) -> Path:
        return self.repo(name) / "_manifests"

    def tags_dir(self, name: str) -> Path:
        return self.repo(name) / "_tags"

    def tag(self, name: str, tag: str) -> Path:
        return self.tags_dir(name) / check_reference(tag)

    def referrers_dir(self, name: str, subject: str) -> Path:
        alg, hexpart = split_digest(subject)
        return self.repo(name) / "_referrers" / alg / hexpart

    def referrer(self, name: str, subject: str, digest: str) -> Path:
        return self.referrers_dir(name, subject) / digest.replace(":", "-", 1)


__all__ = ["Layout"]
