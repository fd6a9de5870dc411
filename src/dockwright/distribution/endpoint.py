"""Which URL serves a registry domain, and whether plain HTTP is allowed there. Pure.

Like dockerd: `docker.io` is served by registry-1.docker.io; registries on loopback
(127.0.0.0/8, ::1, localhost) and those listed as insecure are spoken to over HTTP, others over
HTTPS. Mirrors are tried before the registry itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from dockwright.image.reference import DEFAULT_DOMAIN

DOCKER_HUB_HOST = "registry-1.docker.io"


@dataclass(frozen=True)
class Endpoint:
    """A registry's base URL (scheme://host[:port]) without the /v2/ suffix."""

    base: str
    domain: str  # the reference domain it serves (docker.io, 127.0.0.1:5000)

    @property
    def secure(self) -> bool:
        return self.base.startswith("https://")


def host_of(domain: str) -> str:
    """The host part of `host[:port]` or `[v6]:port`."""
    if domain.startswith("["):
        return domain[1 : domain.index("]")]
    return domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain


def is_insecure(domain: str, insecure: Sequence[str] = ()) -> bool:
    """Plain HTTP for loopback and for `insecure` entries (domains or CIDRs)."""
    host = host_of(domain)
    if host == "localhost" or domain in insecure or host in insecure:
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    if addr.is_loopback:
        return True
    for entry in insecure:
        try:
            if addr in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def endpoints(domain: str, insecure: Sequence[str] = (),
              mirrors: Sequence[str] = ()) -> list[Endpoint]:  # fmt: skip
    """Where to ask for images of `domain`: its mirrors first, then the registry itself."""
    out = [Endpoint(m.rstrip("/"), domain) for m in mirrors]
    host = DOCKER_HUB_HOST if domain == DEFAULT_DOMAIN else domain
    scheme = "http" if is_insecure(domain, insecure) else "https"
    out.append(Endpoint(f"{scheme}://{host}", domain))
    return out
