"""The `mounts` section of the OCI spec, with Docker's defaults and its rules for user mounts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dockwright.errors import InvalidParameter
from dockwright.runtime.types import BindMount, RunSpec, TmpfsMount

INIT_PATH_IN_CONTAINER = "/sbin/docker-init"

# Docker's oci.DefaultLinuxSpec mounts (order matters: /dev before the mounts under it).
DEFAULT_MOUNTS: tuple[dict[str, Any], ...] = (
    {
        "destination": "/proc",
        "type": "proc",
        "source": "proc",
        "options": ["nosuid", "noexec", "nodev"],
    },
    {
        "destination": "/dev",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
        "destination": "/dev/pts",
        "type": "devpts",
        "source": "devpts",
        "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
        "destination": "/sys",
        "type": "sysfs",
        "source": "sysfs",
        "options": ["nosuid", "noexec", "nodev", "ro"],
    },
    {
        "destination": "/sys/fs/cgroup",
        "type": "cgroup",
        "source": "cgroup",
        "options": ["ro", "nosuid", "noexec", "nodev"],
    },
    {
        "destination": "/dev/mqueue",
        "type": "mqueue",
        "source": "mqueue",
        "options": ["nosuid", "noexec", "nodev"],
    },
    {
        "destination": "/dev/shm",
        "type": "tmpfs",
        "source": "shm",
        "options": ["nosuid", "noexec", "nodev", "mode=1777"],
    },
)
# Mounts that stay writable under ReadonlyRootfs (Docker's list).
_WRITABLE_UNDER_RO_ROOT = frozenset({"/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev"})
PROPAGATIONS = frozenset({"private", "rprivate", "shared", "rshared", "slave", "rslave"})

# Tmpfs option merging, as Docker's MergeTmpfsOptions: a later option wins over an earlier one
# that sets the same flag (its key here) or the same data key.
_FLAG_KEYS = {
    **dict.fromkeys(("ro", "rw"), "rdonly"),
    **dict.fromkeys(("suid", "nosuid"), "nosuid"),
    **dict.fromkeys(("dev", "nodev"), "nodev"),
    **dict.fromkeys(("exec", "noexec"), "noexec"),
    **dict.fromkeys(("sync", "async"), "sync"),
    **dict.fromkeys(("dirsync",), "dirsync"),
    **dict.fromkeys(("mand", "nomand"), "mand"),
    **dict.fromkeys(("atime", "noatime"), "noatime"),
    **dict.fromkeys(("diratime", "nodiratime"), "nodiratime"),
    **dict.fromkeys(("relatime", "norelatime"), "relatime"),
    **dict.fromkeys(("strictatime", "nostrictatime"), "strictatime"),
    **dict.fromkeys((*PROPAGATIONS, "unbindable", "runbindable"), "propagation"),
}
_TMPFS_DATA_KEYS = frozenset({"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"})


def merge_tmpfs_options(options: Iterable[str]) -> list[str]:
    """Deduplicate tmpfs options keeping the last of each kind, in Docker's order."""
    merged: list[str] = []
    seen: set[str] = set()
    for option in reversed(list(options)):
        if option == "defaults":
            continue
        if option in _FLAG_KEYS:
            key = "flag:" + _FLAG_KEYS[option]
        else:
            name, eq, _ = option.partition("=")
            if not eq or name not in _TMPFS_DATA_KEYS:
                raise InvalidParameter(f"invalid tmpfs option {option!r}")
            key = "data:" + name
        if key not in seen:
            seen.add(key)
            merged.insert(0, option)
    return merged


def tmpfs_size_option(size: int) -> str:
    """size=N with the largest unit dividing it evenly, as Docker writes TmpfsOptions.SizeBytes."""
    for suffix, divisor in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
        if size % divisor == 0:
            return f"size={size // divisor}{suffix}"
    return f"size={size}"


def tmpfs_mount(t: TmpfsMount) -> dict[str, Any]:
    extra = [tmpfs_size_option(t.size_bytes)] if t.size_bytes else []
    extra += [f"mode={t.mode:o}"] if t.mode else []
    options = merge_tmpfs_options(["noexec", "nosuid", "nodev", "rprivate", *extra, *t.options])
    return {"destination": t.destination, "type": "tmpfs", "source": "tmpfs", "options": options}


def bind_mount(b: BindMount) -> dict[str, Any]:
    if b.propagation and b.propagation not in PROPAGATIONS:
        raise InvalidParameter(f"invalid propagation mode: {b.propagation}")
    options = ["rbind" if b.recursive else "bind"]
    options += ["ro"] if b.readonly else []
    options += [b.propagation] if b.propagation else []
    return {"destination": b.destination, "type": "bind", "source": b.source, "options": options}


def network_file_binds(run: RunSpec, taken: set[str]) -> list[BindMount]:
    """/etc/resolv.conf, /etc/hostname, /etc/hosts from the caller's files, unless user-mounted."""
    files = (
        ("/etc/resolv.conf", run.resolv_conf_path),
        ("/etc/hostname", run.hostname_path),
        ("/etc/hosts", run.hosts_path),
    )
    return [
        BindMount(source, dest, readonly=run.readonly_rootfs)
        for dest, source in files
        if source is not None and dest not in taken
    ]


def _depth(mount: dict[str, Any]) -> int:
    return len([p for p in str(mount["destination"]).split("/") if p])


def user_mounts(run: RunSpec) -> list[dict[str, Any]]:
    """Binds, tmpfs and network files, parents before children (Docker sorts by depth)."""
    for dest in [b.destination for b in run.binds] + [t.destination for t in run.tmpfs]:
        if not dest.startswith("/"):
            raise InvalidParameter(f"invalid mount config: mount path must be absolute: {dest}")
    mounts = [bind_mount(b) for b in run.binds] + [tmpfs_mount(t) for t in run.tmpfs]
    taken = {m["destination"] for m in mounts}
    mounts += [bind_mount(b) for b in network_file_binds(run, taken)]
    return sorted(mounts, key=_depth)


def _without(options: list[str], name: str) -> list[str]:
    return [o for o in options if o != name]


def default_mounts(run: RunSpec, user_destinations: set[str]) -> list[dict[str, Any]]:
    """Docker's defaults minus those the user overrides, with /dev/shm sized and the init bound."""
    result = []
    for template in DEFAULT_MOUNTS:
        m = {**template, "options": list(template["options"])}
        dest = m["destination"]
        if dest in user_destinations or ("/dev" in user_destinations and dest.startswith("/dev/")):
            continue
        if dest == "/dev/shm":
            m["options"].append(f"size={run.shm_size}")
        if run.privileged and dest in ("/sys", "/sys/fs/cgroup"):
            m["options"] = _without(m["options"], "ro")
        if run.readonly_rootfs and dest not in _WRITABLE_UNDER_RO_ROOT and "ro" not in m["options"]:
            m["options"].append("ro")
        result.append(m)
    if run.init_path:
        result.append(
            {
                "destination": INIT_PATH_IN_CONTAINER,
                "type": "bind",
                "source": run.init_path,
                "options": ["bind", "ro"],
            }
        )
    return result


def build_mounts(run: RunSpec) -> list[dict[str, Any]]:
    users = user_mounts(run)
    return default_mounts(run, {m["destination"] for m in users}) + users


def rootfs_propagation(binds: Iterable[BindMount]) -> str | None:
    """Shared binds need a shared rootfs, slave binds an rslave one (else the runtime default)."""
    modes = {b.propagation for b in binds}
    if modes & {"shared", "rshared"}:
        return "shared"
    if modes & {"slave", "rslave"}:
        return "rslave"
    return None
