"""The stores a request handler works with, and helpers shared by every route module."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockwright.registry.blobs import BlobStore
from dockwright.registry.http import Response
from dockwright.registry.layout import Layout
from dockwright.registry.repos import RepoStore
from dockwright.registry.uploads import UploadStore


@dataclass
class Stores:
    """Everything under one registry root."""

    layout: Layout
    blobs: BlobStore
    uploads: UploadStore
    repos: RepoStore

    @classmethod
    def open(cls, root: Path) -> Stores:
        """Create the tree if needed and drop temp files a killed server left behind."""
        layout = Layout(root)
        for d in (layout.blobs, layout.uploads, layout.repositories):
            d.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(layout.tmp, ignore_errors=True)
        layout.tmp.mkdir()
        blobs = BlobStore(layout)
        return cls(layout, blobs, UploadStore(layout, blobs), RepoStore(layout, blobs))


def json_response(status: int, doc: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(
        status,
        [("Content-Type", "application/json"), *(headers or [])],
        json.dumps(doc).encode(),
    )


__all__ = ["Stores", "json_response"]
