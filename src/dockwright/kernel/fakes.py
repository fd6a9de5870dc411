"""Recording fakes of the kernel seams, for unit tests of their callers (no root, no kernel state)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dockwright.kernel.libc import SyscallError


@dataclass(frozen=True)
class MountCall:
    """One recorded operation: kind is "mount", "overlay" or "unmount"."""

    kind: str
    target: Path
    source: str = ""
    fstype: str = ""
    flags: int = 0
    data: str = ""
    lowerdirs: tuple[Path, ...] = ()
    upper: Path | None = None
    work: Path | None = None


@dataclass
class RecordingMounter:
    """A Mounter that keeps a mount table in memory and records every call in order.

    Set `fail_on` to a target path to make the next mount on it raise SyscallError (EBUSY),
    so callers' undo paths can be tested.
    """

    calls: list[MountCall] = field(default_factory=list)
    mounted: set[Path] = field(default_factory=set)
    fail_on: Path | None = None

    def _mounting(self, call: MountCall) -> None:
        self.calls.append(call)
        if self.fail_on is not None and call.target == self.fail_on:
            self.fail_on = None
            raise SyscallError(f"mount on {call.target}: device or resource busy", 16)
        self.mounted.add(call.target)

    def mount(self, source: str, target: Path, fstype: str, flags: int = 0, data: str = "") -> None:
        self._mounting(MountCall("mount", Path(target), source, fstype, flags, data))

    def mount_overlay(
        self, lowerdirs: Sequence[Path], upper: Path | None, work: Path | None, target: Path
    ) -> None:
        call = MountCall(
            "overlay", Path(target), "overlay", "overlay", 0, "", tuple(lowerdirs), upper, work
        )
        self._mounting(call)

    def unmount(self, target: Path, *, detach: bool = True) -> None:
        self.calls.append(MountCall("unmount", Path(target), flags=int(detach)))
        self.mounted.discard(Path(target))

    def is_mountpoint(self, path: Path) -> bool:
        return Path(path) in self.mounted
