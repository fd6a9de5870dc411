"""Docker's seccomp choices -> OCI linux.seccomp: default profile, capabilities, custom, unconfined."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from dockwright.errors import InvalidParameter
from dockwright.runtime.caps import DEFAULT_CAPABILITIES
from dockwright.runtime.seccomp import (
    BUILTIN,
    UNCONFINED,
    check_security_opts,
    linux_seccomp,
    parse_security_opts,
)
from dockwright.runtime.seccomp_bpf import BPF_ANNOTATION, bpf_annotations, compile_bpf
from dockwright.runtime.spec import build_spec
from dockwright.runtime.types import RunSpec

pytestmark = pytest.mark.unit
X86 = {"arch": "amd64", "kernel": (6, 1)}


def allowed(section: dict[str, Any]) -> set[str]:
    """Names allowed without argument conditions."""
    return {
        n
        for r in section["syscalls"]
        if r["action"] == "SCMP_ACT_ALLOW" and "args" not in r
        for n in r["names"]
    }


def default_section(caps: tuple[str, ...] = DEFAULT_CAPABILITIES, **kw: Any) -> dict[str, Any]:
    section = linux_seccomp(BUILTIN, caps, **{**X86, **kw})
    assert section is not None
    return section


def test_default_profile_denies_with_eperm_on_native_and_compat_arches() -> None:
    s = default_section()
    assert s["defaultAction"] == "SCMP_ACT_ERRNO"
    assert s["defaultErrnoRet"] == 1
    assert s["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert {"read", "write", "execve", "clone3"} - allowed(s) == {"clone3"}
    assert {"mount", "unshare", "setns", "reboot", "ptrace"} & allowed(s) == {"ptrace"}


def test_aarch64_gets_its_arch_map_and_arch_only_syscalls() -> None:
    s = default_section(arch="arm64")
    assert s["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert "cacheflush" in allowed(s) and "arch_prctl" not in allowed(s)
    assert "arch_prctl" in allowed(default_section())


def test_without_cap_sys_admin_clone_may_not_create_namespaces() -> None:
    rules = [r for r in default_section()["syscalls"] if r["names"] in (["clone"], ["clone3"])]
    assert rules == [
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 0x7E020000, "op": "SCMP_CMP_MASKED_EQ"}],
        },
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
    ]


def test_capabilities_add_their_syscalls() -> None:
    caps = (*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN", "CAP_SYS_TIME", "CAP_SYS_PTRACE")
    s = default_section(caps)
    assert {"mount", "unshare", "setns", "clone", "clone3", "settimeofday", "kcmp"} <= allowed(s)
    assert not any(r["action"] == "SCMP_ACT_ERRNO" for r in s["syscalls"])  # clone3 ENOSYS gone
    assert "reboot" not in allowed(s)
    assert "reboot" in allowed(default_section((*DEFAULT_CAPABILITIES, "CAP_SYS_BOOT")))


def test_personality_and_socket_keep_their_argument_rules() -> None:
    rules = [r for r in default_section()["syscalls"] if r["names"] == ["personality"]]
    assert sorted(r["args"][0]["value"] for r in rules) == [0, 8, 0x20000, 0x20008, 0xFFFFFFFF]
    sockets = [r["args"][0] for r in default_section()["syscalls"] if r["names"] == ["socket"]]
    assert [(a["op"], a["value"]) for a in sockets] == [
        ("SCMP_CMP_LT", 38),
        ("SCMP_CMP_EQ", 39),
        ("SCMP_CMP_GT", 40),
    ]


def test_min_kernel_rules_follow_the_host_kernel() -> None:
    old = default_section(kernel=(4, 4))
    assert "ptrace" not in allowed(old)
    assert "ptrace" in allowed(default_section(kernel=(4, 8)))


def test_unconfined_and_privileged_have_no_filter() -> None:
    assert linux_seccomp(UNCONFINED, DEFAULT_CAPABILITIES, **X86) is None
    assert linux_seccomp(None, DEFAULT_CAPABILITIES, **X86) is None
    assert linux_seccomp(BUILTIN, DEFAULT_CAPABILITIES, privileged=True, **X86) is None


def test_custom_profile_is_translated_even_when_privileged() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [
            {"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "comment": "no"},
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_BPF"]}},
            {"names": ["kill"], "action": "SCMP_ACT_LOG", "excludes": {"arches": ["amd64"]}},
        ],
    }
    s = linux_seccomp(json.dumps(profile), DEFAULT_CAPABILITIES, privileged=True, **X86)
    assert s == {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
    }


def test_empty_custom_profile_means_no_filter() -> None:
    assert linux_seccomp("{}", DEFAULT_CAPABILITIES, **X86) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "decoding seccomp profile failed"),
        ("[1, 2]", "decoding seccomp profile failed: expected a JSON object"),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["x"], "archMap": [{}]}',
            "both 'architectures' and 'archMap'",
        ),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"]}]}',
            "both 'name' and 'names'",
        ),
    ],
)
def test_bad_custom_profiles_are_invalid_parameters(text: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        check_security_opts([f"seccomp={text}"])


def test_security_opts_parse_like_dockers() -> None:
    assert parse_security_opts([]).seccomp == BUILTIN
    assert parse_security_opts(["seccomp=unconfined"]).seccomp == UNCONFINED
    assert parse_security_opts(["seccomp:unconfined"]).seccomp == UNCONFINED
    opts = parse_security_opts(['seccomp={"a": 1}', "no-new-privileges", "label=disable"])
    assert (opts.seccomp, opts.no_new_privileges) == ('{"a": 1}', True)
    assert not parse_security_opts(["no-new-privileges=false"]).no_new_privileges
    with pytest.raises(InvalidParameter, match='invalid --security-opt 1: "bogus"'):
        parse_security_opts(["bogus"])
    with pytest.raises(InvalidParameter, match='invalid --security-opt 2: "foo=bar"'):
        parse_security_opts(["foo=bar"])


def test_build_spec_applies_the_profile_from_the_bounding_set() -> None:
    base = {"rootfs": "/r", "args": ("true",), "available_capabilities": DEFAULT_CAPABILITIES}
    assert "seccomp" not in build_spec(RunSpec(**base))["linux"]
    spec = build_spec(RunSpec(**base, seccomp=BUILTIN, cap_add=("SYS_ADMIN",)))
    assert "mount" in allowed(spec["linux"]["seccomp"])
    spec = build_spec(RunSpec(**base, seccomp=BUILTIN, uid=1000))  # bounding set only
    assert "mount" not in allowed(spec["linux"]["seccomp"])


def test_default_profile_compiles_to_a_cached_bpf_annotation() -> None:
    section = default_section()
    program = compile_bpf(section)
    assert program is not None and len(program) % 8 == 0 and len(program) > 8 * 100
    first = bpf_annotations(section)
    assert base64.b64decode(first[BPF_ANNOTATION]) == program
    assert bpf_annotations(json.loads(json.dumps(section))) == first  # same content, same program
    widened = default_section((*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"))
    assert bpf_annotations(widened) != first


def test_sections_left_to_the_runtime_get_no_annotation() -> None:
    section = default_section()
    assert bpf_annotations(None) == {}
    assert bpf_annotations({**section, "flags": ["SECCOMP_FILTER_FLAG_LOG"]}) == {}
    assert bpf_annotations({**section, "listenerPath": "/run/x.sock"}) == {}
    notify = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
    }
    assert compile_bpf(notify) is None


def test_unknown_syscall_names_are_skipped_as_crun_does() -> None:
    base = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"]}
    known = compile_bpf({**base, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})
    mixed = {"names": ["read", "no_such_syscall_here"], "action": "SCMP_ACT_ALLOW"}
    assert known is not None and compile_bpf({**base, "syscalls": [mixed]}) == known
