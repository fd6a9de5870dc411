"""Helpers for the runtime driver's real-kernel tests: a busybox rootfs, runtimes, a tracker.

Every container a test makes goes through `Sandbox`, which at teardown deletes it (killing it if
needed), checks that no conmon of this test is left, and removes the test's cgroups and files.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dockwright.kernel.caps import bounding_capabilities
from dockwright.kernel.cgroups import remove_cgroup
from dockwright.runtime import ConmonRuntime, RunSpec, build_spec, read_log

CRUN = "/usr/bin/crun"
RUNC = "/usr/sbin/runc"


def write_busybox_rootfs(root: Path) -> None:
    """busybox-static with a link per applet, plus the /etc files an image would have."""
    (root / "bin").mkdir(parents=True)
    shutil.copy2("/bin/busybox", root / "bin/busybox")
    applets = subprocess.run(
        ["/bin/busybox", "--list-full"], capture_output=True, text=True, check=True
    )
    for applet in applets.stdout.split():
        link = root / applet
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to("/bin/busybox")
    for d in ("etc", "proc", "sys", "dev", "tmp", "root"):
        (root / d).mkdir(exist_ok=True)
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
    )
    (root / "etc/group").write_text("root:x:0:\nnobody:x:65534:\n")


def conmons_under(path: Path) -> list[int]:
    """Live conmon processes whose command line names a path under `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if (
            argv[0].endswith(b"conmon")
            and state != "Z"
            and any(str(path).encode() in a for a in argv)
        ):
            found.append(int(entry.name))
    return found


@dataclass
class Sandbox:
    """One test's world: its directories, cgroup parent, runtimes and containers."""

    root: Path
    rootfs: Path
    cgroup_parent: str
    containers: list[tuple[ConmonRuntime, str]] = field(default_factory=list)

    def runtime(self, path: str = CRUN) -> ConmonRuntime:
        return ConmonRuntime(path, self.root / "state")

    def private_rootfs(self) -> Path:
        """A copy of the image for a test that makes the runtime create mount points in it."""
        copy = self.root / "rootfs"
        shutil.copytree(self.rootfs, copy, symlinks=True)
        return copy

    def new_id(self, prefix: str = "t") -> str:
        return prefix + os.urandom(8).hex()

    def bundle(self, cid: str) -> Path:
        return self.root / "containers" / cid

    def spec(self, cid: str, *args: str, **overrides: Any) -> dict[str, Any]:
        defaults: dict[str, Any] = {
            "rootfs": str(self.rootfs),
            "hostname": cid[:12],
            "cgroups_path": f"{self.cgroup_parent}/{cid}",
            "available_capabilities": bounding_capabilities(),
        }
        run = RunSpec(args=args, **{**defaults, **overrides})
        return build_spec(run)

    async def create(
        self,
        rt: ConmonRuntime,
        cid: str,
        spec: dict[str, Any],
        *,
        tty: bool = False,
        stdin: bool = False,
        stdin_once: bool = False,
    ) -> int:
        self.containers.append((rt, cid))
        bundle = self.bundle(cid)
        return await rt.create(
            cid, bundle, spec, tty=tty, stdin=stdin, stdin_once=stdin_once, log_path=bundle / "log"
        )

    async def run(self, rt: ConmonRuntime, *args: str, **overrides: Any) -> tuple[str, int]:
        """Create and start a container running `args`; (id, pid)."""
        cid = self.new_id()
        pid = await self.create(rt, cid, self.spec(cid, *args, **overrides))
        await rt.start(cid)
        return cid, pid

    def log_lines(self, cid: str) -> list[str]:
        return (self.bundle(cid) / "log").read_text().splitlines()

    def cleanup(self) -> None:
        async def delete_all() -> None:
            for rt, cid in self.containers:
                try:
                    await rt.delete(cid, force=True)
                except Exception:
                    pass

        asyncio.run(delete_all())
        leftover = conmons_under(self.root)
        for pid in leftover:
            os.kill(pid, signal.SIGKILL)
        remove_cgroup(self.cgroup_parent)
        shutil.rmtree(self.root, ignore_errors=True)
        assert not leftover, f"conmon processes left running: {leftover}"


T = TypeVar("T")


def run(coro: Awaitable[T], timeout: float = 30) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def output_of(
    sandbox: Sandbox, runtime_path: str, script: str, **overrides: Any
) -> tuple[int, str]:
    rt = sandbox.runtime(runtime_path)

    async def scenario() -> tuple[int, str]:
        cid, _ = await sandbox.run(rt, "sh", "-c", script, **overrides)
        code = (await rt.wait_exit(cid)).code
        records, _ = read_log(sandbox.bundle(cid) / "log")
        return code, b"".join(r.data for r in records).decode().rstrip("\n")

    return run(scenario())
