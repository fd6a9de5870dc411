"""Multi-stage structure of a Dockerfile: global ARGs, stages, the target. Pure.

ARGs before the first FROM are "meta args": they may be used in FROM lines only (and re-declared
inside a stage, without a value, to bring their value in). Stages are named with `FROM x AS name`;
`--target` builds the stages up to and including the named one (as the legacy builder does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dockwright.builder.expand import expand_word, expand_words
from dockwright.builder.mounts import mount_sources
from dockwright.builder.parser import Dockerfile, Instruction
from dockwright.errors import InvalidParameter

# Docker's predefined args: usable without an ARG line, never in history unless declared.
PREDEFINED_ARGS = frozenset(
    [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "FTP_PROXY",
        "ftp_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
)


@dataclass(frozen=True)
class Stage:
    index: int
    name: str  # lowercase; "" when unnamed
    base: str  # the FROM image text, unexpanded
    from_ins: Instruction
    instructions: tuple[Instruction, ...]


def split_stages(df: Dockerfile) -> tuple[tuple[Instruction, ...], list[Stage]]:
    """(meta ARGs, stages); InvalidParameter when something other than ARG precedes FROM."""
    meta: list[Instruction] = []
    stages: list[Stage] = []
    current: list[Instruction] = []
    for ins in df.instructions:
        if ins.keyword == "from":
            _close(stages, current)
            stages.append(_stage(len(stages), ins))
            current = []
        elif not stages:
            if ins.keyword != "arg":
                raise InvalidParameter("no build stage in current context")
            meta.append(ins)
        else:
            current.append(ins)
    _close(stages, current)
    if not stages:
        raise InvalidParameter("no build stage in current context")
    return tuple(meta), stages


def _close(stages: list[Stage], current: list[Instruction]) -> None:
    if stages:
        last = stages[-1]
        stages[-1] = Stage(last.index, last.name, last.base, last.from_ins, tuple(current))


def _stage(index: int, ins: Instruction) -> Stage:
    words = ins.rest.split()
    if len(words) == 3 and words[1].lower() == "as":
        return Stage(index, words[2].lower(), words[0], ins, ())
    if len(words) != 1:
        raise InvalidParameter(f"FROM requires either one or three arguments: {ins.original!r}")
    return Stage(index, "", words[0], ins, ())


def select(stages: list[Stage], target: str, meta: Mapping[str, str] | None = None,
           escape: str = "\\") -> list[Stage]:  # fmt: skip
    """The stages to build, in order: the target (default: the last stage) and the stages it
    needs through `FROM <stage>`, `COPY --from=<stage>` and `RUN --mount=from=<stage>`; the
    others are skipped."""
    last = stages[-1]
    if target:
        found = [s for s in stages if s.name == target.lower()]
        if not found:
            raise InvalidParameter(f"failed to reach build target {target} in Dockerfile")
        last = found[0]
    needed = {last.index}
    for stage in reversed(stages[: last.index + 1]):
        if stage.index in needed:
            needed |= depends_on(stage, stages, meta or {}, escape)
    return [s for s in stages if s.index in needed]


def dependencies(chosen: list[Stage], stages: list[Stage], meta: Mapping[str, str],
                 escape: str = "\\") -> dict[int, frozenset[int]]:  # fmt: skip
    """For each chosen stage, the chosen stages it must wait for: the build's DAG."""
    picked = {s.index for s in chosen}
    return {s.index: frozenset(depends_on(s, stages, meta, escape) & picked) for s in chosen}


def depends_on(stage: Stage, stages: list[Stage], meta: Mapping[str, str], escape: str) -> set[int]:
    """Indexes of earlier stages `stage` uses; a reference with a variable in it may be any."""
    earlier = stages[: stage.index]
    refs = [expand_word(stage.base, meta, escape)]
    for ins in stage.instructions:
        for ref in stage_refs(ins):
            if "$" in ref:
                return {s.index for s in earlier}
            refs.append(ref)
    out = set()
    for ref in filter(None, (r.lower() for r in refs)):
        out |= {s.index for s in earlier if ref in (s.name, str(s.index))}
    return out


def stage_refs(ins: Instruction) -> list[str]:
    """What `COPY --from=x` and `RUN --mount=...,from=x` name (stage or image), as written."""
    if ins.keyword in ("copy", "add"):
        return [ins.flag("from")]
    if ins.keyword == "run":
        return mount_sources(ins)
    return []


def arg_default(ins: Instruction, env: Mapping[str, str], escape: str) -> tuple[str, str | None]:
    """An ARG line's (name, default or None)."""
    words = expand_words(ins.rest, env, escape)
    if len(words) != 1:
        raise InvalidParameter(f"ARG requires exactly one argument: {ins.original!r}")
    name, sep, default = words[0].partition("=")
    if not name:
        raise InvalidParameter(f"ARG names can not be blank: {ins.original!r}")
    return name, default if sep else None


def meta_args(
    meta: tuple[Instruction, ...], build_args: Mapping[str, str], escape: str
) -> dict[str, str]:
    """Values of the ARGs declared before the first FROM (a --build-arg overrides a default)."""
    values: dict[str, str] = {}
    for ins in meta:
        name, default = arg_default(ins, values, escape)
        if name in build_args:
            values[name] = build_args[name]
        elif default is not None:
            values[name] = default
    return values


def base_name(stage: Stage, meta: Mapping[str, str], escape: str) -> str:
    name = expand_word(stage.base, meta, escape)
    if not name:
        raise InvalidParameter(f"base name ({stage.base}) should not be blank")
    return name


@dataclass(frozen=True)
class StagePlan:
    """The stages a build runs, their DAG, and how their steps are numbered and labelled:
    steps are numbered in stage order after the `offset` global ARG lines."""

    chosen: list[Stage]
    deps: dict[int, frozenset[int]]
    offset: int = 0

    @property
    def order(self) -> list[int]:
        return [s.index for s in self.chosen]

    def stage(self, index: int) -> Stage:
        return next(s for s in self.chosen if s.index == index)

    def first_step(self, index: int) -> int:
        """The number of the stage's FROM step."""
        before = [s for s in self.chosen if s.index < index]
        return self.offset + 1 + sum(1 + len(s.instructions) for s in before)

    def label(self, stage: Stage) -> str:
        """BuildKit's progress label: the stage name in multi-stage builds."""
        if len(self.chosen) == 1:
            return ""
        return stage.name or f"stage-{stage.index}"
