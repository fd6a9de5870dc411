"""Compile an OCI `linux.seccomp` section to BPF once, so crun need not do it at every start.

crun 1.8 compiles the filter with libseccomp at each `create` (Debian's build has no BPF cache:
that needs libgcrypt): with Docker's ~400-rule profile that is ~15 ms, more than crun's whole
start without a filter. crun also takes a ready filter from the annotation
`run.oci.seccomp_bpf_data` (base64 of the raw program) and then skips its own compilation.
We compile with the same libseccomp, the way crun does (same default action, the architectures
in order, one rule per name, unknown names skipped, repeated argument indexes as separate
rules), and cache the result by the section's content: one compilation per distinct profile
and capability set for the daemon's lifetime. runc ignores the annotation and compiles
`linux.seccomp` itself; the section stays in config.json for it and for readers.

Sections using what we leave to the runtime (flags, a notify listener) get no annotation.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import json
import os
from functools import cache, lru_cache
from typing import Any

__all__ = ["BPF_ANNOTATION", "bpf_annotations", "compile_bpf"]

BPF_ANNOTATION = "run.oci.seccomp_bpf_data"
_ERRNO, _TRACE = 0x00050000, 0x7FF00000
_ACTIONS = {
    "SCMP_ACT_ALLOW": 0x7FFF0000,
    "SCMP_ACT_KILL": 0x00000000,
    "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_LOG": 0x7FFC0000,
}
_OPS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}
_EPERM = 1
_EEXIST = 17


class _ArgCmp(ctypes.Structure):
    """libseccomp's struct scmp_arg_cmp."""

    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


class _Unsupported(Exception):
    """The section uses something only the runtime should handle."""


@cache
def _libseccomp() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp")
    if name is None:
        return None
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def _action(name: str, errno_ret: int) -> int:
    if name == "SCMP_ACT_ERRNO":
        return _ERRNO | (errno_ret & 0xFFFF)
    if name == "SCMP_ACT_TRACE":
        return _TRACE | (errno_ret & 0xFFFF)
    if name not in _ACTIONS:
        raise _Unsupported(name)
    return _ACTIONS[name]


def bpf_annotations(section: dict[str, Any] | None) -> dict[str, str]:
    """{BPF_ANNOTATION: base64 program} for a section crun may take precompiled, else {}."""
    if section is None:
        return {}
    data = _compiled(json.dumps(section, sort_keys=True))
    return {BPF_ANNOTATION: data} if data else {}


@lru_cache(maxsize=64)
def _compiled(section_json: str) -> str:
    program = compile_bpf(json.loads(section_json))
    return base64.b64encode(program).decode() if program else ""


def compile_bpf(section: dict[str, Any]) -> bytes | None:
    """The raw BPF program crun would build for `section`; None when we leave it to crun."""
    lib = _libseccomp()
    if lib is None or section.get("flags") or section.get("listenerPath"):
        return None
    try:
        default = _action(section["defaultAction"], section.get("defaultErrnoRet", _EPERM))
    except (_Unsupported, KeyError):
        return None
    ctx = lib.seccomp_init(default)
    if not ctx:
        return None
    try:
        _add_architectures(lib, ctx, section.get("architectures") or [])
        for rule in section.get("syscalls") or []:
            _add_rule(lib, ctx, rule, default)
        return _export(lib, ctx)
    except _Unsupported:
        return None
    finally:
        lib.seccomp_release(ctx)


def _add_architectures(lib: ctypes.CDLL, ctx: int, arches: list[str]) -> None:
    for arch in arches:
        token = lib.seccomp_arch_resolve_name(arch.removeprefix("SCMP_ARCH_").lower().encode())
        if token == 0:
            raise _Unsupported(arch)
        rc = lib.seccomp_arch_add(ctx, token)
        if rc < 0 and rc != -_EEXIST:  # the native one is there since seccomp_init
            raise _Unsupported(arch)


def _add_rule(lib: ctypes.CDLL, ctx: int, rule: dict[str, Any], default: int) -> None:
    action = _action(rule.get("action", ""), rule.get("errnoRet", _EPERM))
    if action == default:
        return
    cmps = [_arg_cmp(a) for a in (rule.get("args") or [])[:6]]
    indexes = [c.arg for c in cmps]
    groups = [cmps] if len(set(indexes)) == len(indexes) else [[c] for c in cmps]
    for name in rule.get("names") or []:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number == -1:
            continue  # unknown to this libseccomp: crun skips it too
        for group in groups:
            array = (_ArgCmp * len(group))(*group) if group else None
            if lib.seccomp_rule_add_array(ctx, action, number, len(group), array) < 0:
                raise _Unsupported(name)


def _arg_cmp(arg: dict[str, Any]) -> _ArgCmp:
    op = _OPS.get(arg.get("op", ""))
    index = int(arg.get("index", 0))
    if op is None or not 0 <= index < 6:
        raise _Unsupported(str(arg))
    return _ArgCmp(index, op, int(arg.get("value", 0)), int(arg.get("valueTwo", 0)))


def _export(lib: ctypes.CDLL, ctx: int) -> bytes | None:
    fd = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
    try:
        if lib.seccomp_export_bpf(ctx, fd) < 0:
            return None
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
