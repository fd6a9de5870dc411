"""The build service: runs a Dockerfile over the containers and images services.

`build` is an async generator of Docker's JSON stream messages (`{"stream": …}`, `{"aux": …}`);
a failure ends it with a DockwrightError, which the route turns into `errorDetail`. The
Dockerfile is parsed, checked whole (builder/validate.py: a mistake fails the build before any
container exists) and split into stages up front (builder package, pure); each step's cache key
is computed before it runs, and a hit reuses the cached image. RUN (run_step.py) and COPY/ADD
(copy_step.py) commit a container's upper directory; other instructions only make a new config.
Every container a build creates is removed before the build ends, whether the step failed or not.

The stages the target needs run as a DAG of tasks (schedule.py): a stage starts when the stages
it names (FROM, COPY --from, RUN --mount from=) are built; the stream shows them in stage order
with steps numbered up front. Each step also sends `start`/`cached`/`miss`/`done` events as aux
messages (state.step_event; an ONBUILD trigger's events are its own) that `--progress=plain`
renders and the docker CLI ignores. FROM images missing locally, or every one with `pull`, are
pulled (baseimage.py). `prune_cache` is `builder prune` (usage.py: what it frees and why).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

from dockwright.builder import context as ctx
from dockwright.builder import steps, validate
from dockwright.builder.ctxtree import LazyTree
from dockwright.builder.expand import expand_word
from dockwright.builder.history import EPOCH_ARG, source_date_epoch
from dockwright.builder.ignore import Pattern
from dockwright.builder.options import BuildOptions
from dockwright.builder.parser import Instruction, parse
from dockwright.builder.stages import (
    PREDEFINED_ARGS,
    Stage,
    StagePlan,
    arg_default,
    base_name,
    dependencies,
    meta_args,
    select,
    split_stages,
)
from dockwright.engine.builds import prunefilter
from dockwright.engine.builds.base import StepRunner
from dockwright.engine.builds.baseimage import BaseImages
from dockwright.engine.builds.blobqueue import BlobQueue
from dockwright.engine.builds.cache import BuildCache
from dockwright.engine.builds.cachemounts import CACHE_MOUNTS_DIR, CacheMounts
from dockwright.engine.builds.copy_step import CopySteps
from dockwright.engine.builds.ctxsync import ContextCache, Session
from dockwright.engine.builds.receive import receive
from dockwright.engine.builds.run_step import RunSteps
from dockwright.engine.builds.schedule import Emit, StageJob, run_stages
from dockwright.engine.builds.scratch import Trash
from dockwright.engine.builds.sshforward import SshSessions
from dockwright.engine.builds.state import (
    BuildRun,
    Message,
    StageState,
    out,
    short_id,
    step_event,
)
from dockwright.engine.builds.usage import MOUNT_TYPE, SOURCE_TYPE
from dockwright.engine.containers.service import ContainerService
from dockwright.engine.images import ImageService, repo_tag_reference
from dockwright.errors import Conflict, InvalidParameter, NotFound
from dockwright.image.topdir import mark_top_dir
from dockwright.store.db import Database

TRASH = "trash"  # scratch_root/trash: finished builds' directories being deleted
CONTEXTS = "contexts"  # scratch_root/contexts: contexts kept for `dockwright build` (ctxsync.py)


class BuildService:
    def __init__(self, containers: ContainerService, images: ImageService, db: Database,
                 scratch_root: Path | None = None) -> None:  # fmt: skip
        """`scratch_root` holds the contexts of running builds; what a crash left there goes."""
        self.containers = containers
        self.images = images
        scratch = scratch_root or Path(tempfile.gettempdir()) / "dockwright-build"
        self.contexts = ContextCache(scratch / CONTEXTS)
        mounts = CacheMounts(containers.config.data_root / CACHE_MOUNTS_DIR)
        self.cache = BuildCache(db, images, mounts, self.contexts)
        self.steps = StepRunner(containers, images, self.cache)
        self.runs = RunSteps(containers, images, self.cache)
        self.copies = CopySteps(containers, images, self.cache)
        self.bases = BaseImages(images)
        self.ssh_sessions = SshSessions()  # `--ssh` forwarding connections (sshforward.py)
        self.scratch_root = scratch_root
        self.trash = Trash(scratch_root / TRASH if scratch_root is not None else None)
        if scratch_root is not None:
            shutil.rmtree(scratch_root, ignore_errors=True)
            scratch_root.mkdir(parents=True, mode=0o700)
            mark_top_dir(scratch_root)  # contexts spread over the disk (image/topdir.py)

    async def shutdown(self) -> None:
        """Daemon shutdown: wait for the scratch deletions still running."""
        await self.trash.close()

    async def prune_cache(self, all: bool = False, filters: dict[str, list[str]] | None = None,
                          keep_storage: int = 0) -> dict[str, Any]:  # fmt: skip
        """`POST /build/prune`: Docker's BuildCachePruneResponse. prunefilter.py chooses the
        records (without filters: every one not in use); the chosen step entries are forgotten,
        their reclaimable images and the chosen idle cache mounts deleted (usage.py says why).
        InvalidParameter names a bad filter."""
        rule = prunefilter.parse_rule(filters or {}, time.time_ns(), all, keep_storage)
        mounts = await asyncio.to_thread(self.cache.mounts.entries)
        records = prunefilter.records_of(self.cache.step_uses(), mounts,
                                         self.cache.mounts.in_use, self.contexts.infos())  # fmt: skip
        parents = {i["Id"]: str(i.get("ParentId") or "") for i in self.images.list(all=True)}
        plan = prunefilter.plan_prune(records, parents, rule)
        steps = [r.id for r in plan.records if r.image]
        self.cache.forget(steps + self.cache.stale_keys())
        reclaimed = await self._remove_images(list(plan.images))
        chosen = {r.id: r.size for r in plan.records if r.type == MOUNT_TYPE}
        removed, freed = await asyncio.to_thread(self.cache.mounts.remove_idle, chosen)
        contexts, ctx_freed = self.contexts.prune(
            [r.id for r in plan.records if r.type == SOURCE_TYPE]
        )
        total = reclaimed + freed + ctx_freed
        self.containers.events.publish("builder", "prune", "", {"reclaimed": str(total)})
        return {"CachesDeleted": steps + removed + contexts, "SpaceReclaimed": total}

    async def _remove_images(self, image_ids: list[str]) -> int:
        """Delete the images (children first); the bytes of the layers that went. An image
        that gained a user since (a container, a child) is kept."""
        sizes = self.images.layers.usage()
        deleted: list[dict[str, str]] = []
        for image_id in image_ids:
            try:
                deleted += await self.images.remove(image_id, noprune=True)
            except (Conflict, NotFound):
                continue
        return sum(sizes.get(r.get("Deleted", ""), 0) for r in deleted)

    async def build(
        self, chunks: AsyncIterable[bytes], opts: BuildOptions
    ) -> AsyncIterator[Message]:
        """Build from the context tar in `chunks`; yields Docker's stream messages. The
        context is indexed as it arrives and written out only where a step needs its files
        (receive.py); the scratch directory is deleted in the background after the end."""
        session = self.contexts.claim(opts.context_session) if opts.context_session else None
        workdir = Path(tempfile.mkdtemp(prefix="build-", dir=self.scratch_root))
        blobs = BlobQueue()
        try:
            tree = await self._receive(chunks, workdir, session)
            with ctx.attach(tree), self.cache.building():
                async for msg in self._run(tree.root, opts, blobs):
                    if msg:
                        yield msg
        finally:
            await blobs.close()
            self.trash.discard(workdir)
            if session is not None:
                self.contexts.release(opts.context_session)

    async def _receive(
        self, chunks: AsyncIterable[bytes], workdir: Path, session: Session | None = None
    ) -> LazyTree:
        if session is not None:
            return await self.contexts.receive(session, chunks, workdir)
        return await receive(chunks, workdir)

    async def _run(self, root: Path, opts: BuildOptions,
                   blobs: BlobQueue | None = None) -> AsyncIterator[Message]:  # fmt: skip
        for tag in opts.tags:
            repo_tag_reference(tag, None)  # refuse a bad tag before building anything
        text = await asyncio.to_thread(ctx.read_text, root, opts.dockerfile)
        if text is None:
            raise InvalidParameter(f"Cannot locate specified Dockerfile: {opts.dockerfile}")
        patterns: list[Pattern] = await asyncio.to_thread(ctx.load_ignore, root, opts.dockerfile)
        await asyncio.to_thread(ctx.prune, root, patterns)
        df = parse(text)
        meta, stages = split_stages(df)
        self._validate(stages)
        globals_ = meta_args(meta, opts.build_args, df.escape)
        chosen = select(stages, opts.target, globals_, df.escape)
        if any(_binds_context(i) for s in chosen for i in s.instructions):
            await asyncio.to_thread(ctx.materialize, root)  # the mount shows the directory
        total = len(meta) + sum(1 + len(s.instructions) for s in chosen)
        build = BuildRun(opts, root, df.escape, total, blobs=blobs, ssh_sessions=self.ssh_sessions)
        build.cache_sources = self._cache_sources(opts.cache_from)
        for ins in meta:
            build.step += 1
            yield out(build, f"Step {build.step}/{build.total} : {ins.original}\n")
            build.used_args.add(arg_default(ins, {}, df.escape)[0])
        plan = StagePlan(chosen, dependencies(chosen, stages, globals_, df.escape), len(meta))
        async for msg in run_stages(plan.order, plan.deps, self._stage_job(build, plan, globals_)):
            yield msg
        assert build.last is not None
        if blobs is not None:
            await blobs.drain()  # the image is named once its layers' blobs are stored
        async for msg in self._finish(build, build.last):
            yield msg

    def _validate(self, stages: list[Stage]) -> None:
        """The whole Dockerfile, before anything runs; a `--from` naming this or a later stage
        is an image to the legacy builder, and fails as its pull would when there is none."""
        for ref in validate.check(stages):
            try:
                self.images.resolve(ref.name)
            except NotFound:
                raise InvalidParameter(
                    f"invalid from flag value {ref.name}: pull access denied for {ref.name}, "
                    "repository does not exist or may require 'docker login' (the stage of "
                    f"that name is not built yet at line {ref.line})"
                ) from None

    def _cache_sources(self, names: tuple[str, ...]) -> list[dict[str, Any]]:
        """The configs of the --cache-from images present here (missing ones are skipped,
        as docker does)."""
        found = []
        for name in names:
            try:
                found.append(self.images.image_config(self.images.resolve(name)[0]))
            except NotFound:
                continue
        return found

    def _stage_job(self, build: BuildRun, plan: StagePlan, globals_: dict[str, str]) -> StageJob:
        """The task body of one stage: its messages go to `emit` (quiet builds send none)."""

        async def job(index: int, emit: Emit) -> None:
            def send(msg: Message) -> None:
                if msg and not (build.opts.quiet and ("aux" in msg or "status" in msg)):
                    emit(msg)

            stage = plan.stage(index)
            state = StageState("", {}, label=plan.label(stage), count=1 + len(stage.instructions),
                               epoch=source_date_epoch(build.opts.build_args),
                               blobs=build.blobs)  # fmt: skip
            state.emit = send
            async for msg in self._stage(build, stage, state, plan.first_step(index), globals_):
                send(msg)
            if index == plan.order[-1]:
                build.last = state

        return job

    def _begin(self, build: BuildRun, state: StageState, ins: Instruction, step: int,
               index: int) -> list[Message]:  # fmt: skip
        """Number the step; its legacy "Step i/n" line and its start event."""
        build.step, state.index, state.instruction = step, index, ins.original
        return [
            out(build, f"Step {step}/{build.total} : {ins.original}\n"),
            step_event(step, "start", name=state.header()),
        ]

    async def _stage(self, build: BuildRun, stage: Stage, state: StageState, first: int,
                     globals_: dict[str, str]) -> AsyncIterator[Message]:  # fmt: skip
        """One stage's steps, from step number `first`; its final image in `stage_images`."""
        started = time.monotonic()
        for msg in self._begin(build, state, stage.from_ins, first, 1):
            yield msg
        name = base_name(stage, globals_, build.escape)
        platform = expand_word(stage.from_ins.flag("platform"), globals_, build.escape)
        image_id = build.stage_images.get(name.lower()) or await self.bases.get(
            name, build.opts, platform or build.opts.platform, state.emit
        )
        state.image_id, state.full = image_id, self.images.image_config(image_id)
        yield out(build, f" ---> {short_id(image_id)}\n")
        yield _done(state, first, started)
        async for msg in self._triggers(build, state, globals_):
            yield msg
        for number, ins in enumerate(stage.instructions, start=2):
            started = time.monotonic()
            for msg in self._begin(build, state, ins, first + number - 1, number):
                yield msg
            async for msg in self._instruction(build, state, ins, globals_):
                yield msg
            yield out(build, f" ---> {short_id(state.image_id)}\n")
            yield _done(state, first + number - 1, started)
        if stage.name:
            build.stage_images[stage.name] = state.image_id
        build.stage_images[str(stage.index)] = state.image_id

    async def _triggers(self, build: BuildRun, state: StageState,
                        globals_: dict[str, str]) -> AsyncIterator[Message]:  # fmt: skip
        """The base image's ONBUILD triggers run after FROM, each reported as a step of its own
        (events with `trigger`); the stage's images do not inherit them."""
        triggers = state.config.get("OnBuild") or []
        state.full = {**state.full, "config": {**state.config, "OnBuild": None}}
        if not triggers:
            return
        plural = "s" if len(triggers) > 1 else ""
        yield out(build, f"# Executing {len(triggers)} build trigger{plural}\n")
        try:
            for state.trigger, text in enumerate(triggers, start=1):
                for ins in parse(text).instructions:
                    if _binds_context(ins):
                        await asyncio.to_thread(ctx.materialize, build.root)
                    started, state.instruction = time.monotonic(), ins.original
                    yield state.event(build.step, "start", name=state.header())
                    async for msg in self._instruction(build, state, ins, globals_):
                        yield msg
                    yield _done(state, build.step, started)
        finally:
            state.trigger = 0

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
        state.emit = lambda _m: None  # not a numbered step: no step events
        state.instruction, state.missed = "LABEL", False
        if build.opts.labels:
            config = state.config
            config["Labels"] = {**(config.get("Labels") or {}), **build.opts.labels}
            labels = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(build.opts.labels.items()))
            async for msg in self.steps.metadata_step(
                build, state, config, steps.nop("LABEL " + labels)
            ):
                yield msg
        special = PREDEFINED_ARGS | {EPOCH_ARG}
        unused = sorted(set(build.opts.build_args) - build.used_args - special)
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


def _binds_context(ins: Instruction) -> bool:
    """A RUN with a bind mount of the build context (type bind is the default, no `from`)."""
    for text in ins.flag_values("mount") if ins.keyword == "run" else []:
        fields = dict(f.partition("=")[::2] for f in text.split(",") if f.strip())
        fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
        if fields.get("type", "bind") == "bind" and "from" not in fields:
            return True
    return False


def _done(state: StageState, step: int, started: float) -> Message:
    return state.event(step, "done", seconds=round(time.monotonic() - started, 3))


__all__ = ["BuildService"]
