"""An image's root filesystem for a COPY, mounted without a container.

A COPY never runs anything, so it needs no container record, runtime state or bundle: only the
image's layers as overlay lowerdirs. Writable, the overlay's upper directory is a fresh
directory in the layer store's staging area (so committing it is a rename, see
image/fromdir.py, and a daemon crash leaves nothing `LayerStore.recover` does not sweep) and
the mount is `volatile`; read-only (`COPY --from`), it has no upper directory at all. The
image's top layer is held for as long as it is mounted, as a container's snapshot would.

Layout of a writable one, ``<data-root>/layers/.tmp-<dir-id>/``::

    diff/     the upper directory: the step's layer, moved away by the commit
    work/     overlayfs' work directory
    merged/   the mount point
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dockwright.image.layers import LayerStore
from dockwright.image.safefs import remove_tree
from dockwright.image.store import ImageStore
from dockwright.kernel.libc import SyscallError
from dockwright.kernel.mount import LinuxMounter, Mounter, overlay_data


class ScratchRoot:
    """`async with`: the merged root of `image_id`; `upper` holds what was written to it.

    Blocking work runs in worker threads. On exit the overlay is unmounted and the directories
    removed (an `upper` still there too); the layer reference is dropped."""

    def __init__(self, images: ImageStore, image_id: str, *, writable: bool,
                 mounter: Mounter | None = None) -> None:  # fmt: skip
        self.layers: LayerStore = images.layers
        self.top = images.get(image_id).top_layer
        self.writable = writable
        self.mounter = mounter or LinuxMounter()
        self.base = Path()

    @property
    def upper(self) -> Path:
        return self.base / "diff"

    @property
    def merged(self) -> Path:
        return self.base / "merged"

    async def __aenter__(self) -> ScratchRoot:
        await asyncio.to_thread(self._mount)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self._remove)

    def _lowerdirs(self) -> list[Path]:
        """Top layer first; a read-only overlay needs two, so empty ones fill in."""
        chain = [layer.path for layer in self.layers.chain(self.top)]
        if self.writable:
            return chain or [self.layers.empty_dir]
        return (chain + [self.layers.empty_dir, self.upper])[: max(2, len(chain) + 1)]

    def _mount(self) -> None:
        if self.top is not None:
            self.layers.acquire(self.top)
        try:
            self.base, _dir_id = self.layers.reserve()
            for sub in ("diff", "work", "merged"):
                (self.base / sub).mkdir(mode=0o755)
            if self.writable:
                self._mount_volatile()
            else:
                self.mounter.mount_overlay(self._lowerdirs(), None, None, self.merged)
        except BaseException:
            self._remove()
            raise

    def _mount_volatile(self) -> None:
        """Writable, with overlayfs' `volatile`: unmounting it then skips the sync of the
        whole upper filesystem (0.01-0.6 s here under load), which a step's upper directory
        never needs (its blob is fsynced by the content store). Without it where the kernel
        refuses (before 5.10, or mount data past one page)."""
        lowers, work = self._lowerdirs(), self.base / "work"
        data = overlay_data([str(p) for p in lowers], self.upper, work) + ",volatile"
        try:
            self.mounter.mount("overlay", self.merged, "overlay", 0, data)
        except SyscallError:
            self.mounter.mount_overlay(lowers, self.upper, work, self.merged)

    def unmount(self) -> None:
        """Blocking; idempotent. The upper directory is complete and unused afterwards."""
        if self.base != Path() and self.mounter.is_mountpoint(self.merged):
            self.mounter.unmount(self.merged, detach=False)

    def _remove(self) -> None:
        try:
            self.unmount()
            if self.base != Path():
                remove_tree(self.base)
        finally:
            if self.top is not None:
                self._release(self.top)

    def _release(self, top: str) -> None:
        self.top = None
        if self.layers.release(top):
            self.layers.sweep()
