"""RUN: run the command in a container from the stage's image and commit its upper directory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from dockwright.builder import steps
from dockwright.builder.cache import step_key
from dockwright.builder.parser import Instruction
from dockwright.builder.stages import PREDEFINED_ARGS
from dockwright.engine.builds.base import StepRunner
from dockwright.engine.builds.state import BuildRun, Message, StageState, out
from dockwright.errors import DockwrightError
from dockwright.types.container import ContainerConfig, HostSettings


class RunSteps(StepRunner):
    async def run(
        self, build: BuildRun, state: StageState, ins: Instruction
    ) -> AsyncIterator[Message]:
        argv = steps.command(ins, state.config)
        env_names = {e.partition("=")[0] for e in state.config.get("Env") or []}
        proxies = {k: v for k, v in build.opts.build_args.items() if k in PREDEFINED_ARGS}
        run_args = {k: v for k, v in {**proxies, **state.args}.items() if k not in env_names}
        shown = [f"{k}={v}" for k, v in sorted(run_args.items()) if k not in PREDEFINED_ARGS]
        created_by = (f"|{len(shown)} {' '.join(shown)} " if shown else "") + " ".join(argv)
        key = step_key(state.image_id, created_by, state.config)
        if await self.cached(build, state, key):
            yield out(build, " ---> Using cache\n")
            return
        request = ContainerConfig(image=state.image_id, cmd=tuple(argv), entrypoint=(),
                                  env=tuple(f"{k}={v}" for k, v in run_args.items()))  # fmt: skip
        host = HostSettings(network_mode=build.opts.network_mode,
                            extra_hosts=build.opts.extra_hosts, shm_size=build.opts.shm_size)  # fmt: skip
        c, _ = self.containers.create(None, request, host)
        try:
            yield out(build, f" ---> Running in {c.id[:12]}\n")
            exited = self.containers.wait_future(c.id, "next-exit")
            async for msg in self._execute(build, c.id):
                yield msg
            code, _error = await exited
            if code != 0:
                raise DockwrightError(
                    f"The command '{' '.join(argv)}' returned a non-zero code: {code}"
                )
            upper = self.containers.rootfs.upper_dir(c.id)
            image_id = await asyncio.to_thread(self.commit, state, state.config, created_by, upper)
        finally:
            await self.containers.remove(c.id, force=True, volumes=True)
        yield out(build, f" ---> Removed intermediate container {c.id[:12]}\n")
        self.advance(state, key, image_id)

    async def _execute(self, build: BuildRun, cid: str) -> AsyncIterator[Message]:
        """Start the container with its output attached; yields it as stream messages."""
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
