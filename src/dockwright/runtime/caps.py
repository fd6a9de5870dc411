"""Docker's capability rules: the default set, CapAdd/CapDrop with "ALL", and Privileged."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dockwright.errors import InvalidParameter

DEFAULT_CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
ALL = "ALL"


def normalize_capabilities(names: Iterable[str], known: Sequence[str]) -> list[str]:
    """Upper-case, add the CAP_ prefix, keep "ALL", drop duplicates; reject unknown names."""
    result: list[str] = []
    for raw in names:
        name = raw.strip().upper()
        if name != ALL and not name.startswith("CAP_"):
            name = "CAP_" + name
        if name != ALL and name not in known:
            raise InvalidParameter(f'unknown capability: "{name}"')
        if name not in result:
            result.append(name)
    return result


def effective_capabilities(
    add: Iterable[str],
    drop: Iterable[str],
    *,
    privileged: bool,
    available: Sequence[str],
    known: Sequence[str],
) -> list[str]:
    """The container's capability list, computed the way Docker's TweakCapabilities does."""
    if privileged:
        return list(available)
    adds = normalize_capabilities(add, known)
    drops = normalize_capabilities(drop, known)
    if ALL in adds:
        return [c for c in available if c not in drops]
    if ALL in drops:
        return [c for c in adds if c != ALL]
    kept = [c for c in DEFAULT_CAPABILITIES if c not in drops]
    return kept + [c for c in adds if c not in kept]
