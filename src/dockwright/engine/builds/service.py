"""The build service: runs a Dockerfile over the containers and images services.

`build` is an async generator of Docker's JSON stream messages (`{"stream": …}`, `{"aux": …}`);
a failure ends it with a DockwrightError, which the route turns into `errorDetail`. The
Dockerfile is parsed and split into stages up front (builder package, pure); each step's cache
key is computed before it runs, and a hit reuses the cached image. RUN (run_step.py) and COPY/ADD
(copy_step.py) commit a container's upper directory; other instructions only make a new config.
Every container a build creates is removed before the build ends, whether the step failed or not.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

from dockwright.builder import context as ctx
from dockwright.builder import steps
from dockwright.builder.ignore import Pattern
from dockwright.builder.options import BuildOptions
from dockwright.builder.parser import Instruction, parse
from dockwright.builder.stages import (
    PREDEFINED_ARGS,
    Stage,
    arg_default,
    base_name,
    meta_args,
    select,
    split_stages,
)
from dockwright.engine.builds.base import StepRunner
from dockwright.engine.builds.cache import BuildCache
from dockwright.engine.builds.copy_step import CopySteps
from dockwright.engine.builds.run_step import RunSteps
from dockwright.engine.builds.state import BuildRun, Message, StageState, out, short_id
from dockwright.engine.containers.service import ContainerService
from dockwright.engine.images import ImageService, repo_tag_reference
from dockwright.errors import InvalidParameter
from dockwright.image import config as cfg
from dockwright.store.db import Database


class BuildService:
    def __init__(self, containers: ContainerService, images: ImageService, db: Database,
                 scratch_root: Path | None = None) -> None:  # fmt: skip
        """`scratch_root` holds the contexts of running builds; what a crash left there goes."""
        self.containers = containers
        self.images = images
        self.cache = BuildCache(db, images)
        self.steps = StepRunner(containers, images, self.cache)
        self.runs = RunSteps(containers, images, self.cache)
        self.copies = CopySteps(containers, images, self.cache)
        self.scratch_root = scratch_root
        if scratch_root is not None:
            shutil.rmtree(scratch_root, ignore_errors=True)
            scratch_root.mkdir(parents=True, mode=0o700)

    def prune_cache(self) -> dict[str, Any]:
        """`POST /build/prune`: Docker's BuildCachePruneResponse."""
        return {"CachesDeleted": self.cache.prune(), "SpaceReclaimed": 0}

    async def build(
        self, chunks: AsyncIterable[bytes], opts: BuildOptions
    ) -> AsyncIterator[Message]:
        """Build from the context tar in `chunks`; yields Docker's stream messages."""
        workdir = Path(tempfile.mkdtemp(prefix="build-", dir=self.scratch_root))
        try:
            root = workdir / "context"
            root.mkdir()
            await self._receive(chunks, workdir / "context.tar", root)
            async for msg in self._run(root, opts):
                if msg:
                    yield msg
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def _receive(self, chunks: AsyncIterable[bytes], spool: Path, root: Path) -> None:
        with spool.open("wb") as f:
            async for chunk in chunks:
                await asyncio.to_thread(f.write, chunk)
        with spool.open("rb") as f:
            await asyncio.to_thread(ctx.unpack, f, root)

    async def _run(self, root: Path, opts: BuildOptions) -> AsyncIterator[Message]:
        for tag in opts.tags:
            repo_tag_reference(tag, None)  # refuse a bad tag before building anything
        text = await asyncio.to_thread(ctx.read_text, root, opts.dockerfile)
        if text is None:
            raise InvalidParameter(f"Cannot locate specified Dockerfile: {opts.dockerfile}")
        patterns: list[Pattern] = await asyncio.to_thread(ctx.load_ignore, root, opts.dockerfile)
        await asyncio.to_thread(ctx.prune, root, patterns)
        df = parse(text)
        meta, stages = split_stages(df)
        chosen = select(stages, opts.target, meta_args(meta, opts.build_args, df.escape), df.escape)
        total = len(meta) + sum(1 + len(s.instructions) for s in chosen)
        build = BuildRun(opts, root, df.escape, total)
        for ins in meta:
            yield self._step_line(build, ins)
            build.used_args.add(arg_default(ins, {}, df.escape)[0])
        globals_ = meta_args(meta, opts.build_args, df.escape)
        for stage in chosen:
            async for msg in self._stage(build, stage, globals_):
                yield msg
        assert build.last is not None
        async for msg in self._finish(build, build.last):
            yield msg

    def _step_line(self, build: BuildRun, ins: Instruction) -> Message:
        build.step += 1
        return out(build, f"Step {build.step}/{build.total} : {ins.original}\n")

    async def _stage(
        self, build: BuildRun, stage: Stage, globals_: dict[str, str]
    ) -> AsyncIterator[Message]:
        """One stage's steps; leaves its final state in `build.last`."""
        yield self._step_line(build, stage.from_ins)
        name = base_name(stage, globals_, build.escape)
        image_id = build.stage_images.get(name.lower()) or self._base(name)
        state = StageState(image_id, self.images.image_config(image_id))
        yield out(build, f" ---> {short_id(image_id)}\n")
        async for msg in self._triggers(build, state, globals_):
            yield msg
        for ins in stage.instructions:
            yield self._step_line(build, ins)
            async for msg in self._instruction(build, state, ins, globals_):
                yield msg
            yield out(build, f" ---> {short_id(state.image_id)}\n")
        if stage.name:
            build.stage_images[stage.name] = state.image_id
        build.stage_images[str(stage.index)] = state.image_id
        build.last = state

    async def _triggers(self, build: BuildRun, state: StageState,
                        globals_: dict[str, str]) -> AsyncIterator[Message]:  # fmt: skip
        """The base image's ONBUILD triggers run first; the stage's images do not inherit them."""
        triggers = state.config.get("OnBuild") or []
        state.full = {**state.full, "config": {**state.config, "OnBuild": None}}
        if not triggers:
            return
        plural = "s" if len(triggers) > 1 else ""
        yield out(build, f"# Executing {len(triggers)} build trigger{plural}\n")
        for text in triggers:
            for ins in parse(text).instructions:
                async for msg in self._instruction(build, state, ins, globals_):
                    yield msg

    def _base(self, name: str) -> str:
        """The image a FROM names; `scratch` is an image without layers (made once)."""
        if name.lower() != "scratch":
            return self.steps.resolve(name)
        empty = {"architecture": cfg.host_arch(), "os": "linux", "config": {},
                 "rootfs": {"type": "layers", "diff_ids": []}}  # fmt: skip
        return self.images.store.create(cfg.encode(empty))

    async def _instruction(self, build: BuildRun, state: StageState, ins: Instruction,
                           globals_: dict[str, str]) -> AsyncIterator[Message]:  # fmt: skip
        if ins.keyword == "arg":
            description = self._arg(build, state, ins, globals_)
            async for msg in self.steps.metadata_step(
                build, state, state.config, steps.nop(description)
            ):
                yield msg
            return
        env = steps.expansion_env(state.config, state.args)
        if ins.keyword in steps.METADATA:
            config, description = steps.apply(state.config, ins, env, build.escape)
            if ins.keyword == "entrypoint" and not state.cmd_set:
                config.pop("Cmd", None)
            state.cmd_set = state.cmd_set or ins.keyword == "cmd"
            async for msg in self.steps.metadata_step(build, state, config, steps.nop(description)):
                yield msg
        elif ins.keyword == "run":
            async for msg in self.runs.run(build, state, ins):
                yield msg
        else:
            async for msg in self.copies.copy(build, state, ins, env):
                yield msg

    def _arg(
        self, build: BuildRun, state: StageState, ins: Instruction, globals_: dict[str, str]
    ) -> str:
        """Declare the ARG in the stage; returns its history description."""
        env = steps.expansion_env(state.config, state.args)
        name, default = arg_default(ins, env, build.escape)
        build.used_args.add(name)
        if name in build.opts.build_args:
            state.args[name] = build.opts.build_args[name]
        elif default is not None:
            state.args[name] = default
        elif name in globals_:
            state.args[name] = globals_[name]
        return f"ARG {name}" + (f"={default}" if default is not None else "")

    async def _finish(self, build: BuildRun, state: StageState) -> AsyncIterator[Message]:
        if build.opts.labels:
            config = state.config
            config["Labels"] = {**(config.get("Labels") or {}), **build.opts.labels}
            labels = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(build.opts.labels.items()))
            async for msg in self.steps.metadata_step(
                build, state, config, steps.nop("LABEL " + labels)
            ):
                yield msg
        unused = sorted(set(build.opts.build_args) - build.used_args - PREDEFINED_ARGS)
        if unused:
            yield out(
                build, f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed\n"
            )
        yield {"aux": {"ID": state.image_id}}
        yield out(build, f"Successfully built {short_id(state.image_id)}\n")
        if build.opts.quiet:
            yield {"stream": state.image_id + "\n"}
        for tag in build.opts.tags:
            ref = repo_tag_reference(tag, None)
            if ref is None:
                continue
            self.images.tag(state.image_id, str(ref), None)
            yield out(build, f"Successfully tagged {ref.familiar()}\n")


__all__ = ["BuildService"]
