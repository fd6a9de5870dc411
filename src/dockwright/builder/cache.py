"""Build cache keys, computed before a step runs. Pure.

A step's key digests what determines its result: the parent image id, the step's history line
(the instruction after expansion, with the build args a RUN sees), the config it leaves, and for
COPY/ADD the content of the files it copies (paths, modes and bytes; never mtimes or ownership
in the context). Equal keys mean the cached image can stand in for running the step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def step_key(parent_id: str, created_by: str, config: dict[str, Any], content: str = "") -> str:
    """sha256 hex of the step's inputs (canonical JSON, so dict order never matters)."""
    doc = {"parent": parent_id, "created_by": created_by, "config": config, "content": content}
    data = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()


def content_digest(entries: list[tuple[str, int, str]]) -> str:
    """Digest of copied files as (destination-relative path, mode, sha256 of bytes or link)."""
    h = hashlib.sha256()
    for path, mode, digest in sorted(entries):
        h.update(f"{path}\0{mode:o}\0{digest}\n".encode())
    return h.hexdigest()
