"""Seccomp for a container: Docker's `--security-opt seccomp=…` choice -> OCI `linux.seccomp`.

A profile (the builtin default or a custom one, both in Docker's profile format) is translated
for one container the way dockerd does it: rules whose `includes`/`excludes` name capabilities
are kept or dropped by the container's *bounding* set, rules for other architectures are dropped,
`minKernel` is compared with the host kernel, and `archMap` picks the native architecture with
its sub-architectures. Privileged containers get no filter unless a custom profile was asked for;
`unconfined` means no filter.

Pure apart from `host_arch`/`host_kernel`, which read uname once.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from dockwright.errors import InvalidParameter
from dockwright.runtime.seccomp_default import default_profile

__all__ = [
    "BUILTIN",
    "UNCONFINED",
    "SecurityOptions",
    "check_security_opts",
    "host_arch",
    "host_kernel",
    "linux_seccomp",
    "load_profile",
    "parse_security_opts",
    "translate",
]

BUILTIN = "builtin"
UNCONFINED = "unconfined"

# Python's machine() -> libseccomp's native arch name (as moby maps GOARCH)
_MACHINE_TO_NATIVE = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "i386": "x86",
    "i686": "x86",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loong64",
}
_NATIVE_TO_SCMP = {
    "amd64": "SCMP_ARCH_X86_64",
    "x86": "SCMP_ARCH_X86",
    "arm64": "SCMP_ARCH_AARCH64",
    "arm": "SCMP_ARCH_ARM",
    "ppc64le": "SCMP_ARCH_PPC64LE",
    "s390x": "SCMP_ARCH_S390X",
    "riscv64": "SCMP_ARCH_RISCV64",
    "loong64": "SCMP_ARCH_LOONGARCH64",
}
# keys of Docker's profile copied to the OCI section unchanged
_PASSED_THROUGH = ("defaultAction", "defaultErrnoRet", "flags", "listenerPath", "listenerMetadata")
_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")


@dataclass(frozen=True)
class SecurityOptions:
    """HostConfig.SecurityOpt, parsed: `seccomp` is BUILTIN, UNCONFINED or a profile's JSON."""

    seccomp: str = BUILTIN
    no_new_privileges: bool = False


def parse_security_opts(opts: Iterable[str]) -> SecurityOptions:
    """Docker's parseSecurityOpt: `seccomp=…`, `no-new-privileges[=bool]`, `label=…`,
    `apparmor=…` (accepted, no effect on this host); anything else is InvalidParameter."""
    seccomp, nnp = BUILTIN, False
    for opt in opts:
        if opt == "no-new-privileges":
            nnp = True
            continue
        if opt in ("disable", "writable-cgroups"):
            continue
        sep = "=" if "=" in opt else ":"
        key, found, value = opt.partition(sep)
        if not found:
            raise InvalidParameter(f'invalid --security-opt 1: "{opt}"')
        if key == "seccomp":
            seccomp = value or BUILTIN
        elif key == "no-new-privileges" and value in _TRUE + _FALSE:
            nnp = value in _TRUE
        elif key not in ("label", "apparmor") and not (
            key == "writable-cgroups" and value in _TRUE + _FALSE
        ):
            raise InvalidParameter(f'invalid --security-opt 2: "{opt}"')
    return SecurityOptions(seccomp, nnp)


def check_security_opts(opts: Iterable[str]) -> SecurityOptions:
    """Parse SecurityOpt and, at create time, reject a custom profile that cannot be applied."""
    parsed = parse_security_opts(opts)
    if parsed.seccomp not in (BUILTIN, UNCONFINED):
        translate(load_profile(parsed.seccomp), (), arch=host_arch(), kernel=host_kernel())
    return parsed


def load_profile(text: str) -> dict[str, Any]:
    """A custom profile's JSON (what the docker CLI sends for `seccomp=/path/profile.json`)."""
    try:
        profile = json.loads(text)
    except ValueError as exc:
        raise InvalidParameter(f"decoding seccomp profile failed: {exc}") from None
    if not isinstance(profile, dict):
        raise InvalidParameter("decoding seccomp profile failed: expected a JSON object")
    if not isinstance(profile.get("syscalls") or [], list):
        raise InvalidParameter("decoding seccomp profile failed: syscalls must be a list")
    return profile


@cache
def host_arch() -> str:
    """This host's architecture as libseccomp names it natively ("amd64", "arm64", …)."""
    machine = platform.machine()
    return _MACHINE_TO_NATIVE.get(machine, machine)


@cache
def host_kernel() -> tuple[int, int]:
    return _kernel_version(os.uname().release)


def _kernel_version(text: str) -> tuple[int, int]:
    """ "6.1.0-13-amd64" -> (6, 1); only the kernel and major revision count, as in moby."""
    parts = text.split(".")
    try:
        return int(parts[0]), int("".join(c for c in parts[1].split("-")[0] if c.isdigit()))
    except (IndexError, ValueError):
        raise InvalidParameter(f"invalid kernel version in seccomp profile: {text!r}") from None


def linux_seccomp(
    choice: str | None,
    bounding: Sequence[str],
    *,
    privileged: bool = False,
    arch: str | None = None,
    kernel: tuple[int, int] | None = None,
) -> dict[str, Any] | None:
    """The OCI `linux.seccomp` for a container, or None for no filter (as dockerd decides)."""
    if choice in (None, "", UNCONFINED):
        return None
    if privileged and choice == BUILTIN:
        return None
    profile = default_profile() if choice == BUILTIN else load_profile(choice)
    return translate(profile, bounding, arch=arch or host_arch(), kernel=kernel or host_kernel())


def translate(
    profile: dict[str, Any], bounding: Sequence[str], *, arch: str, kernel: tuple[int, int]
) -> dict[str, Any] | None:
    """Docker-format `profile` -> OCI section for a process whose bounding set is `bounding`."""
    syscalls = profile.get("syscalls") or []
    if not profile.get("defaultAction") and not syscalls:
        return None  # as moby: nothing to enforce means seccomp disabled
    if profile.get("architectures") and profile.get("archMap"):
        raise InvalidParameter(
            "both 'architectures' and 'archMap' are specified in the seccomp profile, "
            "use either 'architectures' or 'archMap'"
        )
    out: dict[str, Any] = {k: profile[k] for k in _PASSED_THROUGH if k in profile}
    out["architectures"] = _architectures(profile, arch)
    caps = frozenset(bounding)
    out["syscalls"] = [_oci_rule(r) for r in syscalls if _applies(_rule(r), caps, arch, kernel)]
    return out


def _architectures(profile: dict[str, Any], arch: str) -> list[str]:
    if profile.get("architectures"):
        return list(profile["architectures"])
    native = _NATIVE_TO_SCMP.get(arch)
    for entry in profile.get("archMap") or []:
        if native is not None and entry.get("architecture") == native:
            return [native, *(entry.get("subArchitectures") or [])]
    return []


def _rule(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidParameter("invalid seccomp profile: each syscall rule must be an object")
    if raw.get("name") and raw.get("names"):
        raise InvalidParameter(
            "both 'name' and 'names' are specified in the seccomp profile, "
            "use either 'name' or 'names'"
        )
    return raw


def _applies(
    rule: dict[str, Any], caps: frozenset[str], arch: str, kernel: tuple[int, int]
) -> bool:
    """moby's filter: every `includes` condition must hold, no `excludes` condition may."""
    inc = rule.get("includes") or {}
    exc = rule.get("excludes") or {}
    if arch in (exc.get("arches") or []):
        return False
    if any(c in caps for c in exc.get("caps") or []):
        return False
    if exc.get("minKernel") and kernel >= _kernel_version(str(exc["minKernel"])):
        return False
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if any(c not in caps for c in inc.get("caps") or []):
        return False
    return not (inc.get("minKernel") and kernel < _kernel_version(str(inc["minKernel"])))


def _oci_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """Only the OCI LinuxSyscall fields; `name` becomes `names`, empty optionals are left out."""
    names = [rule["name"]] if rule.get("name") else list(rule.get("names") or [])
    out: dict[str, Any] = {"names": names, "action": rule.get("action", "")}
    if rule.get("errnoRet") is not None:
        out["errnoRet"] = rule["errnoRet"]
    if rule.get("args"):
        out["args"] = [_oci_arg(a) for a in rule["args"]]
    return out


def _oci_arg(arg: dict[str, Any]) -> dict[str, Any]:
    out = {"index": arg.get("index", 0), "value": arg.get("value", 0)}
    if arg.get("valueTwo"):
        out["valueTwo"] = arg["valueTwo"]
    out["op"] = arg.get("op", "")
    return out
