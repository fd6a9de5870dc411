"""Docker's default seccomp profile on both runtimes: namespace creation is refused by the filter
(not by capabilities: the same call passes unconfined), and capabilities unlock their syscalls."""

from __future__ import annotations

import json

import pytest
from rt_sandbox import CRUN, RUNC, Sandbox, output_of, run

from dockwright.runtime import read_log
from dockwright.runtime.seccomp_bpf import BPF_ANNOTATION

pytestmark = pytest.mark.integration
RUNTIMES = [CRUN, RUNC]
# unshare -U: unshare(CLONE_NEWUSER) needs no capability, only the default profile forbids it
NEW_USERNS = "unshare -U true && echo allowed"


@pytest.mark.parametrize("runtime_path", RUNTIMES)
def test_default_profile_refuses_new_namespaces_with_eperm(
    sandbox: Sandbox, runtime_path: str
) -> None:
    code, out = output_of(sandbox, runtime_path, NEW_USERNS, seccomp="builtin")
    assert code != 0
    assert "Operation not permitted" in out
    assert "allowed" not in out


@pytest.mark.parametrize("runtime_path", RUNTIMES)
def test_unconfined_allows_what_the_profile_refuses(sandbox: Sandbox, runtime_path: str) -> None:
    code, out = output_of(sandbox, runtime_path, NEW_USERNS, seccomp="unconfined")
    assert (code, out) == (0, "allowed")


@pytest.mark.parametrize("runtime_path", RUNTIMES)
def test_default_profile_lets_ordinary_programs_run(sandbox: Sandbox, runtime_path: str) -> None:
    script = "echo hi > /tmp/f && cat /tmp/f && ls / >/dev/null && sleep 0.01 && echo done"
    code, out = output_of(sandbox, runtime_path, script, seccomp="builtin")
    assert (code, out) == (0, "hi\ndone")


@pytest.mark.parametrize("runtime_path", RUNTIMES)
def test_cap_sys_admin_unlocks_namespace_syscalls(sandbox: Sandbox, runtime_path: str) -> None:
    code, out = output_of(
        sandbox, runtime_path, NEW_USERNS, seccomp="builtin", cap_add=("CAP_SYS_ADMIN",)
    )
    assert (code, out) == (0, "allowed")


@pytest.mark.parametrize("runtime_path", RUNTIMES)
def test_custom_profile_is_enforced(sandbox: Sandbox, runtime_path: str) -> None:
    """Allow everything except mkdir/mkdirat, which fail with EACCES (13)."""
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
    }
    code, out = output_of(
        sandbox, runtime_path, "mkdir /tmp/x || echo refused", seccomp=json.dumps(profile)
    )
    assert code == 0
    assert "Permission denied" in out and "refused" in out.splitlines()  # stderr, stdout: any order


@pytest.mark.parametrize(("runtime_path", "expected"), [(CRUN, "refused"), (RUNC, "allowed")])
def test_crun_runs_the_precompiled_filter_and_runc_the_section(
    sandbox: Sandbox, runtime_path: str, expected: str
) -> None:
    """The annotation carries the default profile; the section is swapped for allow-all."""
    rt = sandbox.runtime(runtime_path)

    async def scenario() -> str:
        cid = sandbox.new_id()
        script = "unshare -U true 2>/dev/null && echo allowed || echo refused"
        spec = sandbox.spec(cid, "sh", "-c", script, seccomp="builtin")
        assert BPF_ANNOTATION in spec["annotations"]
        spec["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}
        await sandbox.create(rt, cid, spec)
        await rt.start(cid)
        await rt.wait_exit(cid)
        records, _ = read_log(sandbox.bundle(cid) / "log")
        return b"".join(r.data for r in records).decode()

    assert run(scenario()).splitlines() == [expected]
