"""The spec's grammar for repository names, tags and digests (pure).

Every name that reaches the filesystem passes `check_name` first: the grammar admits no `..`,
no leading `_` or `.` in a component and no empty component, so a name can never climb out
of the repositories directory or collide with the `_`-prefixed internal directories.
"""

from __future__ import annotations

import re

from dockwright.registry.errors import RegistryError

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
DIGEST_RE = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")
MAX_NAME = 255
ALGORITHMS = ("sha256", "sha512")


def check_name(name: str) -> str:
    """Return `name` if it is a valid repository name; NAME_INVALID otherwise."""
    if len(name) > MAX_NAME or not NAME_RE.match(name):
        raise RegistryError("NAME_INVALID", f"invalid repository name {name!r}", {"name": name})
    return name


def is_digest(ref: str) -> bool:
    return DIGEST_RE.match(ref) is not None


def check_digest(digest: str) -> str:
    """Return `digest` if it is a supported, well-formed digest; DIGEST_INVALID otherwise."""
    if not is_digest(digest):
        raise RegistryError("DIGEST_INVALID", f"invalid digest {digest!r}", {"digest": digest})
    return digest


def is_tag(ref: str) -> bool:
    return TAG_RE.match(ref) is not None


def check_reference(ref: str) -> str:
    """A manifest reference is a tag or a digest; MANIFEST_INVALID for anything else."""
    if is_tag(ref) or is_digest(ref):
        return ref
    raise RegistryError("MANIFEST_INVALID", f"invalid reference {ref!r}", {"reference": ref})


def split_digest(digest: str) -> tuple[str, str]:
    """("sha256", "<hex>") of a checked digest."""
    alg, _, hexpart = check_digest(digest).partition(":")
    return alg, hexpart


__all__ = [
    "ALGORITHMS",
    "check_digest",
    "check_name",
    "check_reference",
    "is_digest",
    "is_tag",
    "split_digest",
]
