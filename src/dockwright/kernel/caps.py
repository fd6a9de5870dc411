"""Linux capability names by number, and the set this process may hand to a container.

A container cannot hold a capability its creator lacks: here CAP_SYS_RESOURCE is missing from
the bounding set, so "all capabilities" (privileged, CapAdd ALL) must mean all that we have.
"""

from __future__ import annotations

from pathlib import Path

CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)


def capabilities_from_mask(mask: int) -> tuple[str, ...]:
    """Names of the bits set in a capability mask (bits this table does not know are dropped)."""
    return tuple(name for bit, name in enumerate(CAPABILITIES) if mask >> bit & 1)


def parse_cap_bounding(status_text: str) -> tuple[str, ...]:
    """The CapBnd line of /proc/<pid>/status as names."""
    for line in status_text.splitlines():
        if line.startswith("CapBnd:"):
            return capabilities_from_mask(int(line.split()[1], 16))
    return CAPABILITIES


def bounding_capabilities() -> tuple[str, ...]:
    """The capabilities this process can grant (its bounding set)."""
    return parse_cap_bounding(Path("/proc/self/status").read_text())
