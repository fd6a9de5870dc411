"""RUN: run the command in a container from the stage's image and commit its upper directory.

`RUN --mount=…` mounts (builder/mounts.py parses them, mounts.py prepares them) and
`RUN --network=…` change only how the container runs: the mounts are not in the committed layer
(their empty mount points are removed from it), and the flags join the step's cache key, with the
content of context files a bind mount shows (a secret's content never does); a cache miss names
the context files that changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from dockwright.builder import steps
from dockwright.builder.cache import content_digest, step_key
from dockwright.builder.mounts import RunMount, run_mounts, run_network, ssh_env, step_flags
from dockwright.builder.parser import Instruction
from dockwright.builder.stages import PREDEFINED_ARGS
from dockwright.engine.builds.base import FileEntries, StepRunner
from dockwright.engine.builds.mounts import (
    StepMounts,
    context_entries,
    missing_secrets,
    remove_stubs,
)
from dockwright.engine.builds.state import BuildRun, Message, StageState, out
from dockwright.engine.containers.service import ContainerService
from dockwright.errors import DockwrightError
from dockwright.types.container import ContainerConfig, HostSettings, MountSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPlan:
    """One RUN, decided before anything runs."""

    argv: tuple[str, ...]
    run_args: dict[str, str]  # build args the command sees as environment variables
    created_by: str  # the history line (never a secret: secrets are mounted, not passed)
    mounts: tuple[RunMount, ...]
    network: str  # default | none | host

    def request(self, image_id: str) -> ContainerConfig:
        env = tuple(f"{k}={v}" for k, v in self.run_args.items())
        return ContainerConfig(image=image_id, cmd=self.argv, entrypoint=(), env=env)


class RunSteps(StepRunner):
    async def run(
        self, build: BuildRun, state: StageState, ins: Instruction
    ) -> AsyncIterator[Message]:
        plan = self._plan(build, state, ins)
        missing_secrets(plan.mounts, build.opts.secrets)
        flags, files = await self._flags_key(build, plan.mounts, plan.network)
        key = step_key(state.image_id, plan.created_by, state.config, flags)
        if await self.cached(build, state, key, created_by=plan.created_by, files=files):
            yield out(build, " ---> Using cache\n")
            return
        async with StepMounts(self.images, self.cache.mounts, build, plan.mounts,
                              lambda name: self._from_image(build, name)) as specs:  # fmt: skip
            mode = build.opts.network_mode if plan.network == "default" else plan.network
            host = HostSettings(network_mode=mode, mounts=specs, extra_hosts=build.opts.extra_hosts,
                                shm_size=build.opts.shm_size)  # fmt: skip
            c, _ = self.containers.create(None, plan.request(state.image_id), host)
            self.containers.rootfs.use_volatile(c.id)  # committed or discarded when it exits
            try:
                yield out(build, f" ---> Running in {c.id[:12]}\n")
                async for msg in self._execute(build, c.id, plan.argv):
                    yield msg
                image_id = await self._commit_run(state, c.id, plan.created_by, specs)
            except BaseException:  # failed or cancelled, maybe still running: gone when we end
                await self.containers.remove(c.id, force=True, volumes=True)
                raise
            remove_later(self.containers, c.id)
        yield out(build, f" ---> Removed intermediate container {c.id[:12]}\n")
        self.advance(state, key, image_id)

    def _plan(self, build: BuildRun, state: StageState, ins: Instruction) -> RunPlan:
        """What the step runs and how it is described (history line and cache key)."""
        argv = steps.command(ins, state.config)
        env_names = {e.partition("=")[0] for e in state.config.get("Env") or []}
        proxies = {k: v for k, v in build.opts.build_args.items() if k in PREDEFINED_ARGS}
        run_args = {k: v for k, v in {**proxies, **state.args}.items() if k not in env_names}
        shown = [f"{k}={v}" for k, v in sorted(run_args.items()) if k not in PREDEFINED_ARGS]
        created_by = (f"|{len(shown)} {' '.join(shown)} " if shown else "") + " ".join(argv)
        env = steps.expansion_env(state.config, state.args)
        mounts = run_mounts(ins, env, build.escape, state.config.get("WorkingDir") or "/")
        run_env = {**ssh_env(mounts, env_names), **run_args}  # the socket: not in history
        return RunPlan(tuple(argv), run_env, created_by, mounts, run_network(ins))

    async def _commit_run(self, state: StageState, cid: str, created_by: str,
                          specs: tuple[MountSpec, ...]) -> str:  # fmt: skip
        """The step's image: the upper directory without the mount points made for `specs`."""
        upper = self.containers.rootfs.upper_dir(cid)
        lowers = self.containers.rootfs.lower_dirs(cid)
        await asyncio.to_thread(self.containers.rootfs.unmount, cid)  # done at exit: made sure
        await asyncio.to_thread(remove_stubs, upper, lowers, [s.target for s in specs])
        return await asyncio.to_thread(self.commit, state, state.config, created_by, upper)

    def _from_image(self, build: BuildRun, name: str) -> str:
        """A mount's `from=`: a stage of this build (by name or index), else a local image."""
        return build.stage_images.get(name.lower()) or self.resolve(name)

    async def _flags_key(self, build: BuildRun, mounts: tuple[RunMount, ...],
                         network: str) -> tuple[str, FileEntries]:  # fmt: skip
        """What the mount/network flags add to the key ("" for a plain RUN: keys unchanged),
        and the context files that bind mounts show (a cache miss names the changed ones)."""
        if not mounts and network == "default":
            return "", []
        parts = [step_flags(mounts, network)]
        files: list[tuple[str, int, str]] = []
        for m in mounts:
            if m.type == "bind" and not m.from_:
                entries = await asyncio.to_thread(context_entries, build.root, m.source)
                parts.append(f"{m.target}={content_digest(entries)}")
                files += entries
            elif m.type in ("bind", "cache") and m.from_:
                parts.append(f"{m.target}={self._from_image(build, m.from_)}")
        return "\n".join(parts), files

    async def _execute(self, build: BuildRun, cid: str, argv: tuple[str, ...]) -> AsyncIterator[Message]:  # fmt: skip
        """Start the container with its output attached; yields it as stream messages. A
        non-zero exit fails the build with Docker's message."""
        exited = self.containers.wait_future(cid, "next-exit")
        _c, session = await self.containers.attach(cid, stdout=True, stderr=True)
        try:
            await self.containers.start(cid)
            while True:
                _kind, data = await session.read()
                if not data:
                    break
                yield out(build, data.decode(errors="replace"))
        finally:
            await session.close()
        code, _error = await exited
        if code != 0:
            raise DockwrightError(
                f"The command '{' '.join(argv)}' returned a non-zero code: {code}"
            )


def remove_later(containers: ContainerService, cid: str) -> None:
    """Remove a step's exited container off the build's critical path: its record goes at
    once (the task runs at the next turn of the loop), its files after; the containers service
    owns the task, so a daemon shutting down waits for it."""
    containers.own_cleanup(_remove(containers, cid))


async def _remove(containers: ContainerService, cid: str) -> None:
    try:
        await containers.remove(cid, force=True, volumes=True)
    except Exception as exc:  # a leftover is swept at the next start (sweep_orphans)
        log.warning("cannot remove build container %s: %s", cid[:12], exc)
