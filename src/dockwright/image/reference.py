"""Docker image references: parsing, normalisation and the familiar (short) form. Pure.

The grammar and error texts are those of distribution/reference, which the docker CLI and
dockerd share::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [domain "/"] path-component ["/" path-component]*
    domain     := host [":" port]      (a first component with "." or ":", or "localhost")
    tag        := [\\w][\\w.-]{0,127}

Normalisation: ``busybox`` → ``docker.io/library/busybox``; ``index.docker.io`` → ``docker.io``;
`with_default_tag` adds ``:latest`` when there is neither tag nor digest. The familiar form drops
``docker.io/`` and ``library/`` again (``busybox:latest``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dockwright.errors import InvalidParameter

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

_REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$", re.ASCII)
_TAG_ONLY = re.compile(rf"^{_TAG}$", re.ASCII)
_DOMAIN_ONLY = re.compile(rf"^{_DOMAIN}$", re.ASCII)
_IDENTIFIER = re.compile(r"^[a-f0-9]{64}$")
_SHA256 = re.compile(r"^sha256:[a-f0-9]{64}$")


@dataclass(frozen=True)
class Reference:
    """A normalised named reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The repository: ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        return self.name + _suffix(self.tag, self.digest)

    @property
    def familiar_name(self) -> str:
        """The repository as users write it: ``busybox``, ``user/app``, ``localhost:5000/a``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        rest = self.path.removeprefix(OFFICIAL_PREFIX)
        return rest if "/" not in rest else self.path

    def familiar(self) -> str:
        """The whole reference as users write it: ``busybox:latest``."""
        return self.familiar_name + _suffix(self.tag, self.digest)

    def with_default_tag(self) -> Reference:
        """Docker's TagNameOnly: add ``:latest`` when neither tag nor digest is given."""
        if self.tag is None and self.digest is None:
            return replace(self, tag=DEFAULT_TAG)
        return self

    def with_tag(self, tag: str) -> Reference:
        """This repository with `tag` (any digest dropped); InvalidParameter for a bad tag."""
        if not _TAG_ONLY.match(tag):
            raise InvalidParameter("invalid tag format")
        return Reference(self.domain, self.path, tag, None)


def _suffix(tag: str | None, digest: str | None) -> str:
    return (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _split_domain(name: str) -> tuple[str, str]:
    """distribution's splitDockerDomain: the first component is a domain only if it looks like one."""
    first, sep, rest = name.partition("/")
    if not sep or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def _check_digest(digest: str) -> None:
    algorithm, _, hex_ = digest.partition(":")
    if algorithm != "sha256":
        raise InvalidParameter("unsupported digest algorithm")
    if len(hex_) != 64:
        raise InvalidParameter("invalid checksum digest length")
    if hex_.lower() != hex_:
        raise InvalidParameter("invalid checksum digest format")


def parse(text: str) -> Reference:
    """Parse a fully qualified reference (no normalisation); Docker's error texts."""
    m = _REFERENCE.match(text)
    if m is None:
        if not text:
            raise InvalidParameter("repository name must have at least one component")
        if _REFERENCE.match(text.lower()):
            raise InvalidParameter("repository name must be lowercase")
        raise InvalidParameter("invalid reference format")
    name, tag, digest = m.groups()
    if len(name) > NAME_MAX:
        raise InvalidParameter(f"repository name must not be more than {NAME_MAX} characters")
    if digest is not None:
        _check_digest(digest)
    first, sep, rest = name.partition("/")
    if sep and _DOMAIN_ONLY.match(first):  # the grammar's optional leading domain
        return Reference(first, rest, tag, digest)
    return Reference("", name, tag, digest)


def parse_normalized(text: str) -> Reference:
    """Docker's ParseNormalizedNamed: ``busybox`` → ``docker.io/library/busybox``."""
    if _IDENTIFIER.match(text):
        raise InvalidParameter(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = _split_domain(text)
    repo = remainder.split(":", 1)[0]
    if repo.lower() != repo:
        raise InvalidParameter(
            f"invalid reference format: repository name ({repo}) must be lowercase"
        )
    ref = parse(f"{domain}/{remainder}")
    if not ref.domain:
        raise InvalidParameter("invalid reference format")
    return ref


def parse_any(text: str) -> Reference | str:
    """Docker's ParseAnyReference: a bare image id or ``sha256:`` digest (returned as the
    digest string), else a normalised named reference."""
    if _IDENTIFIER.match(text):
        return "sha256:" + text
    if _SHA256.match(text):
        return text
    return parse_normalized(text)


def familiar(text: str) -> str:
    """The familiar form of a normalised reference string (``busybox:latest``)."""
    return parse_normalized(text).familiar()
