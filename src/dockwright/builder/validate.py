"""A whole Dockerfile checked before its first step runs, as BuildKit refuses a bad file. Pure.

The parser already refuses unknown instructions and flags. `check` adds what a step would
otherwise find only when it runs, after earlier steps made containers and images: each RUN's
`--mount`s (builder/mounts.py's parser; a value holding a variable waits for its step) and
`--network`; COPY/ADD `--chmod`, `--link`/`--parents`/`--keep-git-dir`, `--checksum`,
`--exclude`; ONBUILD triggers (parsed, and refused where Docker refuses them); and what
`--from` names.

`COPY --from=N` must name an earlier stage (the legacy builder's messages: "refers to current
build stage", "index out of bounds"). A *name* that is not an earlier stage's is read as an
image's, as the legacy builder reads it; when it is the name of this stage or a later one,
`check` returns it (`LaterRef`) so the service can refuse it unless such an image exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockwright.builder import copy as cp
from dockwright.builder.copyflags import bool_flag, parse_checksum
from dockwright.builder.mounts import check_mounts, run_network
from dockwright.builder.parser import Instruction, parse
from dockwright.builder.stages import Stage, stage_refs
from dockwright.builder.steps import check_trigger
from dockwright.errors import InvalidParameter


@dataclass(frozen=True)
class LaterRef:
    """A `--from` naming the stage it is in, or a later one: an image, or a mistake."""

    name: str
    line: int


def check(stages: list[Stage]) -> list[LaterRef]:
    """InvalidParameter (or NotImplementedYet) for the first mistake in any stage, built or
    not (BuildKit parses them all); the `--from` names that only a local image can satisfy."""
    later: list[LaterRef] = []
    for stage in stages:
        for ins in stage.instructions:
            check_instruction(ins)
            later += _from_refs(ins, stage, stages)
    return later


def check_instruction(ins: Instruction) -> None:
    """The flags of one instruction, and an ONBUILD's trigger."""
    if ins.keyword == "run":
        check_mounts(ins)
        run_network(ins)
    elif ins.keyword in ("copy", "add"):
        _check_copy_flags(ins)
    elif ins.keyword == "onbuild":
        check_trigger(ins)
        for trigger in parse(ins.rest).instructions:
            check_instruction(trigger)


def _check_copy_flags(ins: Instruction) -> None:
    """What COPY/ADD read without expansion, and the expandable flags written literally."""
    cp.parse_chmod(ins.flag("chmod"))
    for name in ("link", "parents", "keep-git-dir"):
        bool_flag(ins, name)
    checksum = ins.flag("checksum")
    if checksum and "$" not in checksum:
        parse_checksum(checksum)
    if any(not pattern.strip() for pattern in ins.flag_values("exclude")):
        raise InvalidParameter("--exclude requires a non-empty pattern")


def _from_refs(ins: Instruction, stage: Stage, stages: list[Stage]) -> list[LaterRef]:
    later = []
    for ref in filter(None, stage_refs(ins)):
        if "$" in ref:
            continue  # known when the step runs
        if ref.lstrip("-").isdigit():
            _check_index(ref, stage)
        elif any(s.name == ref.lower() for s in stages[stage.index :]):
            later.append(LaterRef(ref, ins.line))
    return later


def _check_index(ref: str, stage: Stage) -> None:
    """A stage index must name an earlier stage (the legacy builder's wording)."""
    index = int(ref)
    if index == stage.index:
        raise InvalidParameter(f"invalid from flag value {ref}: refers to current build stage")
    if index < 0 or index > stage.index:
        raise InvalidParameter(f"invalid from flag value {ref}: index out of bounds")
