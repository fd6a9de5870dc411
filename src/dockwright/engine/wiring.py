"""Adapters from the subsystems (image snapshots, kernel mounts, runtime logs) to the
containers service's ports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from dockwright.image.snapshot import MountPlan, Snapshotter
from dockwright.kernel.libc import SyscallError
from dockwright.kernel.mount import LinuxMounter, Mounter, overlay_data
from dockwright.runtime.logs import follow_log, read_log


class OverlayRootfs:
    """RootfsPort: snapshot directories from the image package, mounted by the kernel package."""

    def __init__(self, snapshots: Snapshotter, mounter: Mounter | None = None) -> None:
        self.snapshots = snapshots
        self.mounter = mounter or LinuxMounter()
        self._volatile: set[str] = set()

    def prepare(self, image_id: str, cid: str) -> None:
        self.snapshots.prepare(image_id, cid)

    def use_volatile(self, cid: str) -> None:
        """Mount `cid`'s overlay with `volatile` (a build step's: committed or discarded when
        it exits, so its unmount need not sync the whole filesystem). Never a user container:
        a volatile upper cannot be mounted again after a crash."""
        self._volatile.add(cid)

    def mount(self, cid: str) -> Path:
        plan = self.snapshots.plan(cid)
        if not self.mounter.is_mountpoint(plan.target):
            if cid in self._volatile and self._mount_volatile(plan):
                return plan.target
            self.mounter.mount_overlay(plan.lowerdirs, plan.upperdir, plan.workdir, plan.target)
        return plan.target

    def _mount_volatile(self, plan: MountPlan) -> bool:
        """False where the kernel refuses (before 5.10, or mount data past one page)."""
        lowers = [str(p) for p in plan.lowerdirs]
        data = overlay_data(lowers, plan.upperdir, plan.workdir) + ",volatile"
        try:
            self.mounter.mount("overlay", plan.target, "overlay", 0, data)
        except SyscallError:
            return False
        return True

    def merged_dir(self, cid: str) -> Path:
        return self.snapshots.container_dir(cid) / "merged"

    def unmount(self, cid: str) -> None:
        target = self.merged_dir(cid)
        if target.exists() and self.mounter.is_mountpoint(target):
            self.mounter.unmount(target, detach=True)

    def remove(self, cid: str) -> None:
        self._volatile.discard(cid)
        self.snapshots.remove(cid)

    def upper_dir(self, cid: str) -> Path:
        return self.snapshots.upper_dir(cid)

    def all(self) -> list[str]:
        return self.snapshots.all()

    def lower_dirs(self, cid: str) -> list[Path]:
        try:
            return self.snapshots.lower_dirs(cid)
        except Exception:
            return []


class LogReader:
    """LogsPort over conmon's k8s-file logs: (stream id, unix time, bytes) per line, newline kept."""

    async def read(
        self,
        path: Path,
        *,
        follow: asyncio.Future[object] | None,
        tail: int | None,
        since: float,
        until: float,
    ) -> AsyncIterator[tuple[int, float, bytes]]:
        since_ns = int(since * 1e9) if since else None
        until_ns = int(until * 1e9) if until else None
        if follow is None:
            records, _ = await asyncio.to_thread(
                read_log, path, tail=tail, since_ns=since_ns, until_ns=until_ns
            )
            for r in records:
                yield r.stream_id, r.timestamp, r.data
            return
        exited = asyncio.Event()
        follow.add_done_callback(lambda _f: exited.set())
        async for r in follow_log(
            path, exited=exited, tail=tail, since_ns=since_ns, until_ns=until_ns
        ):
            yield r.stream_id, r.timestamp, r.data
