"""Cgroup hierarchies: finding them, making the hybrid layout usable by crun, removing leftovers.

This machine runs the hybrid layout: cgroup v1 controllers under /sys/fs/cgroup/<name> and an
(almost) empty cgroup2 tree at /sys/fs/cgroup/unified. crun refuses to run while any controller
is attached to that v2 tree ("cgroups in hybrid mode not supported, drop all controllers from
cgroupv2"); binding each such controller to its own v1 hierarchy detaches it from v2.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dockwright.kernel.mount import LinuxMounter, Mounter, MountInfo, read_mountinfo

CGROUP_ROOT = Path("/sys/fs/cgroup")
DEFAULT_LOCK = Path("/run/lock/dockwright-cgroups.lock")

V1_CONTROLLERS = frozenset(
    {
        "blkio",
        "cpu",
        "cpuacct",
        "cpuset",
        "debug",
        "devices",
        "freezer",
        "hugetlb",
        "memory",
        "misc",
        "net_cls",
        "net_prio",
        "perf_event",
        "pids",
        "rdma",
    }
)


@dataclass(frozen=True)
class CgroupMount:
    """A mounted hierarchy: v1 with its controllers (or "name=..."), or the v2 tree."""

    path: Path
    version: int
    controllers: frozenset[str]
    root: str = "/"


def cgroup_mounts(infos: Iterable[MountInfo] | None = None) -> list[CgroupMount]:
    """Every cgroup hierarchy in the mount table (first mount of each hierarchy wins)."""
    seen: set[frozenset[str]] = set()
    result = []
    for m in read_mountinfo() if infos is None else infos:
        if m.fstype not in ("cgroup", "cgroup2"):
            continue
        version = 2 if m.fstype == "cgroup2" else 1
        opts = m.super_options.split(",")
        names = frozenset(o for o in opts if o in V1_CONTROLLERS or o.startswith("name="))
        key = names if version == 1 else frozenset({"<v2>"})
        if key in seen:
            continue
        seen.add(key)
        result.append(CgroupMount(Path(m.mount_point), version, names, m.root))
    return result


def plan_hybrid_fix(
    v2_controllers: Iterable[str], root: Path = CGROUP_ROOT
) -> list[tuple[str, Path]]:
    """(controller, mount point) for each controller that must move from v2 to a v1 hierarchy."""
    return [(c, root / c) for c in sorted(set(v2_controllers)) if c]


def _v2_controllers(root: Path) -> list[str]:
    try:
        return (root / "unified" / "cgroup.controllers").read_text().split()
    except FileNotFoundError:
        return []


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    """An exclusive host-wide lock, so daemons starting together mount each hierarchy once."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def prepare_hybrid_for_crun(
    root: Path = CGROUP_ROOT, mounter: Mounter | None = None, lock: Path = DEFAULT_LOCK
) -> list[str]:
    """Bind every controller found on the v2 tree to a v1 hierarchy; return those moved.

    Idempotent (a second call finds nothing to move) and safe when several daemons call it at
    once: the controllers are re-read under an exclusive flock before anything is mounted.
    A pure v1 or pure v2 host has no root/unified tree and is left alone.
    """
    if not _v2_controllers(root):
        return []
    mounter = mounter or LinuxMounter()
    with _locked(lock):
        plan = plan_hybrid_fix(_v2_controllers(root), root)
        for controller, target in plan:
            target.mkdir(exist_ok=True)
            mounter.mount("cgroup", target, "cgroup", 0, controller)
    return [c for c, _ in plan]


def cgroup_dirs(cgroups_path: str, mounts: Iterable[CgroupMount] | None = None) -> list[Path]:
    """The directory of `cgroups_path` (an OCI linux.cgroupsPath) in every hierarchy."""
    rel = cgroups_path.strip("/")
    if not rel or ".." in Path(rel).parts:
        return []
    return [m.path / rel for m in (cgroup_mounts() if mounts is None else mounts)]


def controller_dir(
    cgroups_path: str, controller: str, mounts: Iterable[CgroupMount] | None = None
) -> Path | None:
    """The directory of `cgroups_path` in the v1 hierarchy that carries `controller`."""
    for m in cgroup_mounts() if mounts is None else mounts:
        if m.version == 1 and controller in m.controllers:
            return m.path / cgroups_path.strip("/")
    return None


def cgroup_pids(cgroups_path: str, mounts: Iterable[CgroupMount] | None = None) -> list[int]:
    """Pids of every process in the cgroup (for `docker top`); [] when it does not exist."""
    directory = controller_dir(cgroups_path, "pids", mounts) or controller_dir(
        cgroups_path, "memory", mounts
    )
    if directory is None:
        return []
    pids: set[int] = set()
    for dirpath, _dirs, _files in os.walk(directory):
        try:
            pids.update(int(p) for p in Path(dirpath, "cgroup.procs").read_text().split())
        except OSError:
            continue
    return sorted(pids)


def remove_cgroup(cgroups_path: str, mounts: Iterable[CgroupMount] | None = None) -> list[Path]:
    """Remove the cgroup (and any child cgroups) in every hierarchy; return dirs still busy.

    Only directories are removed (rmdir): a cgroup with live processes stays and is reported.
    """
    busy = []
    for top in cgroup_dirs(cgroups_path, mounts):
        if not top.is_dir():
            continue
        for dirpath, _dirs, _files in os.walk(top, topdown=False):
            try:
                os.rmdir(dirpath)
            except FileNotFoundError:
                pass
            except OSError:
                busy.append(Path(dirpath))
    return busy
