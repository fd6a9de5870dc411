"""Preparing a RUN step's `--mount`s as the container's bind/tmpfs mounts, and undoing them.

`StepMounts` is entered around the RUN container's whole life: it yields the MountSpecs to put
in HostSettings.mounts and, on exit, unmounts and removes everything it made (secret tmpfs,
private and read-write copies, read-only overlays that show a stage's or an image's root). None
of it enters the committed layer: the runtime mounts over the rootfs; `remove_stubs` then deletes the empty
mount points the runtime had to create in the container's upper directory, as BuildKit does.

Bind sources: the build context (`from` unset), a stage of this build or an image (`from=`).
Read-only binds mount the source itself; read-write ones mount a throwaway copy, so a RUN can
never change the context or an image (BuildKit discards those writes too).

An ssh mount is a unix socket in a private scratch directory, bind-mounted at its target; its
connections reach the client's agent through the build's forwarding session (sshforward.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import posixpath
import shutil
import stat
import tempfile
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from dockwright.builder.context import Source, hash_sources
from dockwright.builder.mounts import RunMount
from dockwright.engine.builds.cachemounts import CacheMounts
from dockwright.engine.builds.copy_step import ImageRoot
from dockwright.engine.builds.sshforward import AgentSocket
from dockwright.engine.builds.state import BuildRun
from dockwright.engine.images import ImageService
from dockwright.errors import DockwrightError, InvalidParameter
from dockwright.kernel.mount import MS_NODEV, MS_NOEXEC, MS_NOSUID, mount, unmount
from dockwright.kernel.paths import resolve_in_root
from dockwright.types.container import MountSpec

SECRET_MODE = 0o400
OVERLAY_OPAQUE = "trusted.overlay.opaque"


def missing_secrets(mounts: tuple[RunMount, ...], secrets: dict[str, bytes]) -> None:
    """A required secret the build was not given fails it, with BuildKit's message."""
    for m in mounts:
        if m.type == "secret" and m.required and m.id not in secrets:
            raise DockwrightError(f"secret {m.id}: not found")


def context_entries(root: Path, source: str) -> list[tuple[str, int, str]]:
    """Blocking: (context path, mode, content digest) of everything a bind mount of the
    context's `source` shows (no mtimes): the step's key, and the files a miss names."""
    path = context_source(root, source)
    name = posixpath.normpath(source.lstrip("/") or ".")
    return hash_sources([Source(path, name, path.is_dir() and not path.is_symlink())])


def context_source(root: Path, source: str) -> Path:
    """The host path of a bind mount's source in the build context; it must exist."""
    path = resolve_in_root(root, source or "/")
    if not os.path.lexists(path):
        raise InvalidParameter(f"failed to mount {source or '/'}: not found in the build context")
    return path


class StepMounts:
    """`async with StepMounts(...) as specs`: the MountSpecs of one RUN step's mounts."""

    def __init__(self, images: ImageService, caches: CacheMounts, build: BuildRun,
                 mounts: tuple[RunMount, ...], image_of: Callable[[str], str]) -> None:  # fmt: skip
        """`image_of` maps a `from=` value to an image id (a stage of the build or an image)."""
        self.images, self.caches, self.build = images, caches, build
        self.mounts, self.image_of = mounts, image_of
        self.stack = AsyncExitStack()
        self.secret_dir: Path | None = None

    async def __aenter__(self) -> tuple[MountSpec, ...]:
        await self.stack.__aenter__()
        try:
            specs = [await self._prepare(m) for m in self.mounts]
        except BaseException:
            await self.stack.aclose()
            raise
        return tuple(s for s in specs if s is not None)

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()

    async def _prepare(self, m: RunMount) -> MountSpec | None:
        if m.type == "tmpfs":
            return MountSpec("tmpfs", m.target, "tmpfs", bool(m.readonly), tmpfs_size=m.size)
        if m.type == "cache":
            return await self._cache(m)
        if m.type == "secret":
            return await self._secret(m)
        if m.type == "ssh":
            return await self._ssh(m)
        source = await self._bind_source(m)
        if not m.readonly:
            source = await self._throwaway_copy(source)
        return MountSpec("bind", m.target, str(source), bool(m.readonly))

    async def _bind_source(self, m: RunMount) -> Path:
        if not m.from_:
            return await asyncio.to_thread(context_source, self.build.root, m.source)
        image_id = self.image_of(m.from_)
        root = await self.stack.enter_async_context(ImageRoot(self.images, image_id))
        if root is None:
            raise InvalidParameter(f"failed to mount from {m.from_}: no such stage or image")
        path = resolve_in_root(root, m.source or "/")
        if not os.path.lexists(path):
            raise InvalidParameter(f"failed to mount {m.source or '/'} from {m.from_}: not found")
        return path

    async def _throwaway_copy(self, source: Path) -> Path:
        scratch = self._scratch("rw-")
        copy = scratch / "src"
        if source.is_dir():
            await asyncio.to_thread(shutil.copytree, source, copy, symlinks=True)
        else:
            await asyncio.to_thread(shutil.copy2, source, copy, follow_symlinks=False)
        return copy

    def _scratch(self, prefix: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.caches.tmp))
        self.stack.callback(shutil.rmtree, path, True)
        return path

    async def _cache(self, m: RunMount) -> MountSpec:
        data = await self.stack.enter_async_context(self.caches.use(m))
        if m.from_ and not any(data.iterdir()):
            seed = await self._bind_source(m)
            await asyncio.to_thread(shutil.copytree, seed, data, symlinks=True, dirs_exist_ok=True)
        return MountSpec("bind", m.target, str(data), bool(m.readonly))

    async def _secret(self, m: RunMount) -> MountSpec | None:
        """The secret as a 0400 (or `mode=`) file on a private tmpfs: never on disk."""
        data = self.build.opts.secrets.get(m.id)
        if data is None:
            return None  # optional and not given: BuildKit skips the mount
        directory = await asyncio.to_thread(self._secret_tmpfs)
        path = directory / hashlib.sha256(m.target.encode()).hexdigest()[:16]
        await asyncio.to_thread(_write_secret, path, data, m)
        return MountSpec("bind", m.target, str(path), True)

    async def _ssh(self, m: RunMount) -> MountSpec | None:
        """The agent socket (0600 or `mode=`, owned by uid/gid), when the client forwards `id`;
        a missing one fails the step only when required, with BuildKit's messages."""
        forward = self.build.opts.ssh
        if forward is None or m.id not in forward.ids:
            if not m.required:
                return None  # BuildKit runs the step without the socket
            if forward is None:
                raise DockwrightError(f'no SSH key "{m.id}" forwarded from the client')
            raise DockwrightError(f"unset ssh forward key {m.id}")
        session = await self.build.ssh_sessions.get(forward.session)
        directory = await asyncio.to_thread(self._scratch, "ssh-")
        mode = 0o600 if m.mode is None else m.mode
        agent = AgentSocket(session, m.id, directory, m.uid or 0, m.gid or 0, mode)
        path = await self.stack.enter_async_context(agent)
        return MountSpec("bind", m.target, str(path), True)

    def _secret_tmpfs(self) -> Path:
        """Blocking: this step's tmpfs for secrets (0700, root only), made on first use."""
        if self.secret_dir is None:
            path = self._scratch("secrets-")
            path.chmod(0o700)
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=16m")
            self.stack.callback(unmount, path)
            self.secret_dir = path
        return self.secret_dir


def _write_secret(path: Path, data: bytes, m: RunMount) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chown(path, m.uid or 0, m.gid or 0)
    path.chmod(m.mode if m.mode is not None else SECRET_MODE)


def remove_stubs(upper: Path, lowers: list[Path], targets: list[str]) -> None:
    """Blocking: delete the empty mount points the runtime created for `targets` (and their
    empty parents) from a container's upper directory, unless a lower layer has that path."""
    candidates: set[str] = set()
    for target in targets:
        parts = target.strip("/").split("/")
        candidates.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    for rel in sorted(candidates, key=lambda p: p.count("/"), reverse=True):
        if any(os.path.lexists(low / rel) for low in lowers):
            continue
        _remove_if_stub(upper / rel)


def _remove_if_stub(path: Path) -> None:
    try:
        st = path.lstat()
    except OSError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_size == 0:
        path.unlink()
    elif stat.S_ISDIR(st.st_mode) and not any(path.iterdir()) and not _opaque(path):
        path.rmdir()


def _opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OVERLAY_OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False
