"""What a downloaded build context is: moby's remotecontext content-type rules. Pure.

The server's Content-Type is used unless it is missing or exactly application/octet-stream;
then the first bytes decide, as Go's http.DetectContentType does for the cases that matter
here (gzip, zip, PDF, HTML and XML documents, text, binary). The type must then contain one
dockerd accepts (a tar, compressed or not, octet-stream, or text/plain); text/plain makes the
body the Dockerfile.
"""

from __future__ import annotations

import re

TEXT = "text/plain"
OCTET_STREAM = "application/octet-stream"
ACCEPTABLE = re.compile(
    r"(?:application/(?:(?:x\-)?tar|octet\-stream|((?:x\-)?(?:gzip|bzip2?|xz)))|(?:text/plain))"
)
_MAGIC = (
    (b"\x1f\x8b\x08", "application/x-gzip"),
    (b"PK\x03\x04", "application/zip"),
    (b"%PDF-", "application/pdf"),
    (b"%!PS-Adobe-", "application/postscript"),
)
_HTML_TAGS = (b"<!DOCTYPE HTML", b"<HTML", b"<HEAD", b"<SCRIPT", b"<IFRAME", b"<H1", b"<DIV",
              b"<FONT", b"<TABLE", b"<A", b"<STYLE", b"<TITLE", b"<B", b"<BODY", b"<BR", b"<P",
              b"<!--")  # fmt: skip
_BINARY = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def detect(data: bytes) -> str:
    """The media type the first bytes suggest (Go's sniffing, without parameters)."""
    for magic, media in _MAGIC:
        if data.startswith(magic):
            return media
    markup = data.lstrip(b"\t\n\x0c\r ")
    if any(_tag_at(markup, tag) for tag in _HTML_TAGS):
        return "text/html"
    if markup.startswith(b"<?xml"):
        return "text/xml"
    if any(byte in _BINARY for byte in data[:512]):
        return OCTET_STREAM
    return TEXT


def _tag_at(data: bytes, tag: bytes) -> bool:
    """`tag` (case-insensitive) opens `data` and is followed by a space or `>`."""
    head = data[: len(tag)].upper()
    return head == tag and data[len(tag) : len(tag) + 1] in (b" ", b">")


def acceptable(header: str, preamble: bytes) -> str:
    """The accepted media type ("" when dockerd refuses the body): `header` unless it says
    nothing useful, else what `preamble` looks like."""
    media = header.strip()
    if not media or media == OCTET_STREAM:
        media = detect(preamble)
    found = ACCEPTABLE.search(media)
    return found.group(0) if found else ""
