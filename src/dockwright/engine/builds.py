"""The build service: runs a Dockerfile over the containers and images services.

`build` is an async generator of Docker's JSON stream messages (`{"stream": …}`, `{"aux": …}`);
a failure ends it with a DockwrightError, which the route turns into `errorDetail`. The
Dockerfile is parsed and split into stages up front (builder package, pure); each step's cache
key is computed before it runs, and a hit reuses the cached image. RUN runs a container and
commits its upper directory; COPY/ADD write into a created (never started) container's mounted
root and commit the same way; other instructions only make a new config. Every container a build
creates is removed before the build ends, whether the step failed or not.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockwright.builder import context as ctx
from dockwright.builder import copy as cp
from dockwright.builder import steps
from dockwright.builder.cache import content_digest, step_key
from dockwright.builder.expand import expand_word
from dockwright.builder.history import child_config
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
from dockwright.engine.containers.service import ContainerService
from dockwright.engine.images import ImageService, repo_tag_reference
from dockwright.errors import DockwrightError, InvalidParameter, NotFound
from dockwright.image import config as cfg
from dockwright.image.blobs import LayerBlob
from dockwright.image.keep import MEDIA_BY_KIND, stage_keeping_blob
from dockwright.image.tardiff import tar_diff
from dockwright.store.db import Database
from dockwright.types.container import ContainerConfig, HostSettings

Message = dict[str, Any]
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS build_cache (
        key TEXT PRIMARY KEY,
        image_id TEXT NOT NULL,
        created INTEGER NOT NULL
    )""",
)


class BuildCache:
    """Step key → image id in state.db; entries whose image is gone count as misses."""

    def __init__(self, db: Database, images: ImageService) -> None:
        self.db, self.images = db, images
        db.ensure_schema(SCHEMA)

    def get(self, key: str) -> str | None:
        row = self.db.query_one("SELECT image_id FROM build_cache WHERE key = ?", (key,))
        if row is None or not self.images.store.exists(row["image_id"]):
            return None
        return str(row["image_id"])

    def prune(self) -> list[str]:
        """Forget every entry (`docker builder prune`); the images stay until removed."""
        with self.db.transaction():
            keys = [str(r["key"]) for r in self.db.query("SELECT key FROM build_cache")]
            self.db.execute("DELETE FROM build_cache")
        return keys

    def put(self, key: str, image_id: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO build_cache (key, image_id, created) VALUES (?,?,?)",
            (key, image_id, time.time_ns()),
        )


@dataclass
class _StageState:
    """One stage while it builds: current image, its config, the ARGs it declared."""

    image_id: str
    full: dict[str, Any]
    args: dict[str, str] = field(default_factory=dict)
    cmd_set: bool = False

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.full.get("config") or {})


@dataclass
class _Build:
    opts: BuildOptions
    root: Path
    escape: str
    total: int
    step: int = 0
    used_args: set[str] = field(default_factory=set)
    stage_images: dict[str, str] = field(default_factory=dict)
    last: _StageState | None = None  # the state of the last stage built

    def scratch(self, step: int) -> Path:
        """A private directory for the files a step makes (heredocs), next to the context."""
        return self.root.parent / "scratch" / str(step)


class BuildService:
    def __init__(self, containers: ContainerService, images: ImageService, db: Database,
                 scratch_root: Path | None = None) -> None:  # fmt: skip
        """`scratch_root` holds the contexts of running builds; what a crash left there goes."""
        self.containers = containers
        self.images = images
        self.cache = BuildCache(db, images)
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
        build = _Build(opts, root, df.escape, total)
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

    def _step_line(self, build: _Build, ins: Instruction) -> Message:
        build.step += 1
        return _out(build, f"Step {build.step}/{build.total} : {ins.original}\n")

    async def _stage(
        self, build: _Build, stage: Stage, globals_: dict[str, str]
    ) -> AsyncIterator[Message]:
        """One stage's steps; leaves its final state in `build.last`."""
        yield self._step_line(build, stage.from_ins)
        name = base_name(stage, globals_, build.escape)
        image_id = build.stage_images.get(name.lower()) or self._base(name)
        state = _StageState(image_id, self.images.image_config(image_id))
        yield _out(build, f" ---> {_short(image_id)}\n")
        async for msg in self._triggers(build, state, globals_):
            yield msg
        for ins in stage.instructions:
            yield self._step_line(build, ins)
            async for msg in self._instruction(build, state, ins, globals_):
                yield msg
            yield _out(build, f" ---> {_short(state.image_id)}\n")
        if stage.name:
            build.stage_images[stage.name] = state.image_id
        build.stage_images[str(stage.index)] = state.image_id
        build.last = state

    async def _triggers(self, build: _Build, state: _StageState,
                        globals_: dict[str, str]) -> AsyncIterator[Message]:  # fmt: skip
        """The base image's ONBUILD triggers run first; the stage's images do not inherit them."""
        triggers = state.config.get("OnBuild") or []
        state.full = {**state.full, "config": {**state.config, "OnBuild": None}}
        if not triggers:
            return
        plural = "s" if len(triggers) > 1 else ""
        yield _out(build, f"# Executing {len(triggers)} build trigger{plural}\n")
        for text in triggers:
            for ins in parse(text).instructions:
                async for msg in self._instruction(build, state, ins, globals_):
                    yield msg

    def _base(self, name: str) -> str:
        """The image a FROM names; `scratch` is an image without layers (made once)."""
        if name.lower() != "scratch":
            return self._resolve(name)
        empty = {"architecture": cfg.host_arch(), "os": "linux", "config": {},
                 "rootfs": {"type": "layers", "diff_ids": []}}  # fmt: skip
        return self.images.store.create(cfg.encode(empty))

    def _resolve(self, name: str) -> str:
        try:
            return self.images.resolve(name)[0]
        except NotFound:
            raise NotFound(f"pull access denied for {name}, repository does not exist or may require "
                           "'docker login': no such image in the local store (this daemon does not pull "
                           "during builds)") from None  # fmt: skip

    async def _instruction(self, build: _Build, state: _StageState, ins: Instruction,
                           globals_: dict[str, str]) -> AsyncIterator[Message]:  # fmt: skip
        if ins.keyword == "arg":
            description = self._arg(build, state, ins, globals_)
            async for msg in self._metadata_step(
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
            async for msg in self._metadata_step(build, state, config, steps.nop(description)):
                yield msg
        elif ins.keyword == "run":
            async for msg in self._run_step(build, state, ins):
                yield msg
        else:
            async for msg in self._copy_step(build, state, ins, env):
                yield msg

    def _arg(
        self, build: _Build, state: _StageState, ins: Instruction, globals_: dict[str, str]
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

    # -- steps ---------------------------------------------------------------------------

    async def _cached(self, build: _Build, state: _StageState, key: str) -> bool:
        if build.opts.no_cache:
            return False
        hit = self.cache.get(key)
        if hit is None:
            return False
        state.image_id, state.full = hit, self.images.image_config(hit)
        return True

    async def _metadata_step(self, build: _Build, state: _StageState, config: dict[str, Any],
                             created_by: str) -> AsyncIterator[Message]:  # fmt: skip
        key = step_key(state.image_id, created_by, config)
        if await self._cached(build, state, key):
            yield _out(build, " ---> Using cache\n")
            return
        self._advance(
            state, key, await asyncio.to_thread(self._commit, state, config, created_by, None)
        )

    def _advance(self, state: _StageState, key: str, image_id: str) -> None:
        self.cache.put(key, image_id)
        state.image_id, state.full = image_id, self.images.image_config(image_id)

    async def _run_step(
        self, build: _Build, state: _StageState, ins: Instruction
    ) -> AsyncIterator[Message]:
        argv = steps.command(ins, state.config)
        env_names = {e.partition("=")[0] for e in state.config.get("Env") or []}
        proxies = {k: v for k, v in build.opts.build_args.items() if k in PREDEFINED_ARGS}
        run_args = {k: v for k, v in {**proxies, **state.args}.items() if k not in env_names}
        shown = [f"{k}={v}" for k, v in sorted(run_args.items()) if k not in PREDEFINED_ARGS]
        created_by = (f"|{len(shown)} {' '.join(shown)} " if shown else "") + " ".join(argv)
        key = step_key(state.image_id, created_by, state.config)
        if await self._cached(build, state, key):
            yield _out(build, " ---> Using cache\n")
            return
        request = ContainerConfig(image=state.image_id, cmd=tuple(argv), entrypoint=(),
                                  env=tuple(f"{k}={v}" for k, v in run_args.items()))  # fmt: skip
        host = HostSettings(network_mode=build.opts.network_mode,
                            extra_hosts=build.opts.extra_hosts, shm_size=build.opts.shm_size)  # fmt: skip
        c, _ = self.containers.create(None, request, host)
        try:
            yield _out(build, f" ---> Running in {c.id[:12]}\n")
            exited = self.containers.wait_future(c.id, "next-exit")
            async for msg in self._execute(build, c.id):
                yield msg
            code, _error = await exited
            if code != 0:
                raise DockwrightError(
                    f"The command '{' '.join(argv)}' returned a non-zero code: {code}"
                )
            upper = self.containers.rootfs.upper_dir(c.id)
            image_id = await asyncio.to_thread(self._commit, state, state.config, created_by, upper)
        finally:
            await self.containers.remove(c.id, force=True, volumes=True)
        yield _out(build, f" ---> Removed intermediate container {c.id[:12]}\n")
        self._advance(state, key, image_id)

    async def _execute(self, build: _Build, cid: str) -> AsyncIterator[Message]:
        """Start the container with its output attached; yields it as stream messages."""
        _c, session = await self.containers.attach(cid, stdout=True, stderr=True)
        try:
            await self.containers.start(cid)
            while True:
                _kind, data = await session.read()
                if not data:
                    break
                yield _out(build, data.decode(errors="replace"))
        finally:
            await session.close()

    async def _copy_step(self, build: _Build, state: _StageState, ins: Instruction,
                         env: dict[str, str]) -> AsyncIterator[Message]:  # fmt: skip
        words = cp.copy_words(ins, env, build.escape)
        source_image = self._copy_from(build, expand_word(ins.flag("from"), env, build.escape))
        async with self._rootfs(source_image) as src_root:
            sources = await asyncio.to_thread(
                ctx.find_all, src_root or build.root, words[:-1], ins, build.scratch(build.step)
            )
            spec = cp.CopySpec(
                tuple(sources), cp.destination(words[-1], state.config.get("WorkingDir") or "/"),
                expand_word(ins.flag("chown"), env, build.escape), cp.parse_chmod(ins.flag("chmod")),
                ins.keyword == "add",
            )  # fmt: skip
            hashed = source_image or content_digest(
                await asyncio.to_thread(ctx.hash_sources, sources)
            )
            created_by = steps.nop(
                f"{ins.keyword.upper()} {cp.source_kind(sources)}:{hashed} in {spec.dest} "
            )
            flags = f"{spec.chown}:{spec.chmod}:{spec.unpack}"
            key = step_key(state.image_id, created_by + flags, state.config, hashed)
            if await self._cached(build, state, key):
                yield _out(build, " ---> Using cache\n")
                return
            image_id = await self._write_layer(state, spec, created_by)
        self._advance(state, key, image_id)

    def _copy_from(self, build: _Build, source: str) -> str:
        if not source:
            return ""
        return build.stage_images.get(source.lower()) or self._resolve(source)

    async def _write_layer(self, state: _StageState, spec: cp.CopySpec, created_by: str) -> str:
        """COPY/ADD: write into a created container's root, commit its upper dir, remove it."""
        request = ContainerConfig(
            image=state.image_id, cmd=("/bin/sh", "-c", created_by), entrypoint=()
        )
        c, _ = self.containers.create(None, request, HostSettings())
        try:
            root = await asyncio.to_thread(self.containers.rootfs.mount, c.id)
            try:
                await asyncio.to_thread(cp.copy_sources, root, spec)
            finally:
                await asyncio.to_thread(self.containers.rootfs.unmount, c.id)
            upper = self.containers.rootfs.upper_dir(c.id)
            return await asyncio.to_thread(self._commit, state, state.config, created_by, upper)
        finally:
            await self.containers.remove(c.id, force=True, volumes=True)

    def _rootfs(self, image_id: str) -> _Mounted:
        return _Mounted(self.containers, image_id)

    # -- committing ----------------------------------------------------------------------

    def _commit(self, state: _StageState, config: dict[str, Any], created_by: str,
                upper: Path | None) -> str:  # fmt: skip
        """Blocking: the step's image (a layer from `upper`, or metadata only when None)."""
        store = self.images.store
        diff_id = None
        layer = None
        if upper is not None:
            kept = stage_keeping_blob(store.layers, store.content, tar_diff(upper))
            layer = store.layers.commit(kept.staged, store.get(state.image_id).top_layer)
            store.blobs.record(
                LayerBlob(layer.diff_id, kept.blob.digest, MEDIA_BY_KIND["plain"], kept.blob.size)
            )
            diff_id = layer.diff_id
        full = child_config(
            state.full, config, created_by, diff_id, cfg.format_time(time.time_ns())
        )
        try:
            return store.create(cfg.encode(full), parent=state.image_id)
        finally:
            if layer is not None and store.layers.refs(layer.chain_id) == 0:
                store.layers.acquire(layer.chain_id)
                store.layers.release(layer.chain_id)

    async def _finish(self, build: _Build, state: _StageState) -> AsyncIterator[Message]:
        if build.opts.labels:
            config = state.config
            config["Labels"] = {**(config.get("Labels") or {}), **build.opts.labels}
            labels = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(build.opts.labels.items()))
            async for msg in self._metadata_step(
                build, state, config, steps.nop("LABEL " + labels)
            ):
                yield msg
        unused = sorted(set(build.opts.build_args) - build.used_args - PREDEFINED_ARGS)
        if unused:
            yield _out(
                build, f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed\n"
            )
        yield {"aux": {"ID": state.image_id}}
        yield _out(build, f"Successfully built {_short(state.image_id)}\n")
        if build.opts.quiet:
            yield {"stream": state.image_id + "\n"}
        for tag in build.opts.tags:
            ref = repo_tag_reference(tag, None)
            if ref is None:
                continue
            self.images.tag(state.image_id, str(ref), None)
            yield _out(build, f"Successfully tagged {ref.familiar()}\n")


class _Mounted:
    """`async with`: the root filesystem of `image_id` (None for no image) through a container."""

    def __init__(self, containers: ContainerService, image_id: str) -> None:
        self.containers, self.image_id = containers, image_id
        self.cid = ""

    async def __aenter__(self) -> Path | None:
        if not self.image_id:
            return None
        request = ContainerConfig(image=self.image_id, cmd=("/bin/sh",), entrypoint=())
        c, _ = self.containers.create(None, request, HostSettings())
        self.cid = c.id
        return await asyncio.to_thread(self.containers.rootfs.mount, c.id)

    async def __aexit__(self, *exc: object) -> None:
        if self.cid:
            await asyncio.to_thread(self.containers.rootfs.unmount, self.cid)
            await self.containers.remove(self.cid, force=True, volumes=True)


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def _out(build: _Build, text: str) -> Message:
    return {"stream": text} if not build.opts.quiet else {}


__all__ = ["BuildCache", "BuildOptions", "BuildService"]
