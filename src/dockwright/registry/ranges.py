"""Parsing of `Range` (blob GET) and `Content-Range` (chunked upload) headers (pure)."""

from __future__ import annotations

import re

from dockwright.registry.errors import RegistryError

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CONTENT_RANGE = re.compile(r"^(?:bytes )?(\d+)-(\d+)(?:/(?:\d+|\*))?$")


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) for a single-range `Range` header; None to send the whole blob.

    Multi-range and malformed headers are ignored (RFC 9110 allows that); a range wholly past
    the end is RANGE_INVALID (416).
    """
    m = _RANGE.match(header.strip())
    if m is None or m.group(1) == m.group(2) == "":
        return None
    first, last = m.group(1), m.group(2)
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise RegistryError(
            "RANGE_INVALID", f"range {header} not satisfiable for size {size}", {"size": size}
        )
    return start, end


def content_range(header: str) -> tuple[int, int]:
    """(start, end inclusive) of a chunk's `Content-Range`; 416 when malformed."""
    m = _CONTENT_RANGE.match(header.strip())
    if m is None or int(m.group(1)) > int(m.group(2)):
        raise RegistryError("BLOB_UPLOAD_INVALID", f"invalid content range {header!r}", status=416)
    return int(m.group(1)), int(m.group(2))


__all__ = ["byte_range", "content_range"]
