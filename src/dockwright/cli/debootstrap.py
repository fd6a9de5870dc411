"""`image bootstrap debian:SUITE`: a Debian root filesystem built by debootstrap.

Pure parts (what the user asked for, which mirror the machine uses, the argument vectors) are
kept apart from the acts (running debootstrap and tar, removing the build directory), so they
can be tested without root or network. debootstrap needs root and takes minutes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from dockwright.errors import InvalidParameter, NotFound
from dockwright.errors import SystemError_ as System

APT_DIR = Path("/etc/apt")
SUITE = re.compile(r"[a-z][a-z0-9.-]*")
DEFAULT_CMD = 'CMD ["bash"]'  # as Docker Hub's debian images


def debian_suite(name: str) -> str | None:
    """`debian:bookworm` → "bookworm"; None when `name` is not a debian image at all."""
    repo, sep, tag = name.partition(":")
    if repo != "debian":
        return None
    if not sep or not SUITE.fullmatch(tag) or tag == "latest":
        raise InvalidParameter(f"cannot bootstrap {name!r}: name a suite, e.g. debian:bookworm")
    return tag


def _is_debian_archive(uri: str, suites: list[str]) -> bool:
    """The main archive, not debian-security, updates-only or a third-party repository."""
    if "debian" not in uri or "security" in uri:
        return False
    return any(not s.endswith(("-security", "-updates", "-backports")) for s in suites)


def mirror_from_one_line(text: str) -> str | None:
    """The first `deb [opts] URI SUITE COMPONENTS…` line naming a Debian archive."""
    for line in text.splitlines():
        words = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
        if len(words) >= 3 and words[0] == "deb" and _is_debian_archive(words[1], words[2:3]):
            return words[1]
    return None


def mirror_from_deb822(text: str) -> str | None:
    """The first URI of a deb822 stanza (`Types: deb`, `URIs:`, `Suites:`) for Debian."""
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith(("#", " ", "\t")):
                fields[key.strip().lower()] = value.strip()
        if (
            fields.get("enabled", "yes").lower() == "no"
            or "deb" not in fields.get("types", "").split()
        ):
            continue
        suites = fields.get("suites", "").split()
        for uri in fields.get("uris", "").split():
            if _is_debian_archive(uri, suites):
                return uri
    return None


def find_mirror(apt_dir: Path = APT_DIR) -> str:
    """The Debian mirror of this machine's apt sources; NotFound when none is configured."""
    candidates = [(apt_dir / "sources.list", mirror_from_one_line)]
    parts = sorted((apt_dir / "sources.list.d").glob("*")) if apt_dir.is_dir() else []
    for path in parts:
        if path.suffix == ".sources":
            candidates.append((path, mirror_from_deb822))
        elif path.suffix == ".list":
            candidates.append((path, mirror_from_one_line))
    for path, parse in candidates:
        try:
            found = parse(path.read_text())
        except OSError:
            continue
        if found:
            return found
    raise NotFound(f"no debian mirror in the apt sources under {apt_dir}")


def debootstrap_argv(
    suite: str, target: Path, mirror: str, program: str = "debootstrap"
) -> list[str]:
    return [program, "--variant=minbase", suite, str(target), mirror]


def tar_argv(root: Path) -> list[str]:
    """The rootfs as a tar stream: numeric owners, no device nodes (the runtime makes /dev)."""
    return ["tar", "--numeric-owner", "--exclude=./dev/*", "-C", str(root), "-cf", "-", "."]


# -- acts ------------------------------------------------------------------------------------


def run_debootstrap(suite: str, target: Path, mirror: str) -> None:
    """Build the rootfs in `target` (progress on our stderr); System when it fails."""
    program = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if program is None:
        raise NotFound("debootstrap not found: install the debootstrap package")
    done = subprocess.run(debootstrap_argv(suite, target, mirror, program), stdout=2, check=False)
    if done.returncode != 0:
        raise System(f"debootstrap {suite} from {mirror} failed with exit code {done.returncode}")


def tar_chunks(root: Path, size: int = 256 * 1024) -> Iterator[bytes]:
    """Stream `tar_argv(root)`; System if tar fails (after the stream, so the caller sees it)."""
    proc = subprocess.Popen(tar_argv(root), stdout=subprocess.PIPE)
    assert proc.stdout is not None
    with proc.stdout:
        while data := proc.stdout.read(size):
            yield data
    if proc.wait() != 0:
        raise System(f"tar of {root} failed with exit code {proc.returncode}")


def mounts_under(path: Path) -> list[str]:
    prefix = str(path).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p.startswith(prefix)]


def remove_build_dir(path: Path) -> None:
    """Unmount what a failed debootstrap left mounted inside, then delete the tree; a tree
    that still has mounts is left alone (deleting through a bind mount would hit the host)."""
    for point in reversed(mounts_under(path)):
        subprocess.run(["umount", "-l", point], check=False)
    if mounts_under(path):
        raise System(f"mounts remain under {path}: not removing it")
    shutil.rmtree(path, ignore_errors=True)


def build_dir(base: str = "/var/tmp") -> Path:
    """A fresh private directory for the rootfs (/var/tmp: /tmp is often a small tmpfs)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="dockwright-debootstrap-", dir=base))
    os.chmod(path, 0o755)
    return path
