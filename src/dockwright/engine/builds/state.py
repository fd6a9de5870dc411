"""The state of one running build and of the stage being built, and the stream messages.

Stages run as concurrent tasks, so what belongs to one stage lives in its `StageState`; the
`BuildRun` is shared. `BuildRun.step` is the number of the step the *calling task* is on (a
context variable: each stage task sees its own), so step-numbered scratch paths never collide.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockwright.builder.explain import StepRecord
from dockwright.builder.options import BuildOptions
from dockwright.engine.builds.blobqueue import BlobQueue
from dockwright.engine.builds.sshforward import SshSessions

Message = dict[str, Any]
STEP_AUX = "dockwright.step"  # the aux key of step events; docker ignores unknown aux payloads

_current_step: contextvars.ContextVar[int] = contextvars.ContextVar("build_step", default=0)


@dataclass
class StageState:
    """One stage while it builds: current image, its config, the ARGs it declared, and how
    its steps are numbered and reported."""

    image_id: str
    full: dict[str, Any]
    args: dict[str, str] = field(default_factory=dict)
    cmd_set: bool = False
    epoch: int | None = None  # SOURCE_DATE_EPOCH: commits use it for times (copy/commit.py)
    label: str = ""  # "[build 2/5]" prefix parts: the stage's name ("" when single-stage)
    count: int = 1  # steps in this stage, FROM included
    index: int = 0  # this stage's step being run, 1-based (FROM is 1)
    instruction: str = ""  # the step being run, as written
    missed: bool = False  # a step of this stage ran: later steps cannot hit the cache
    pending: tuple[str, StepRecord] | None = None  # (key, inputs) of the step that missed
    trigger: int = 0  # the base image's ONBUILD trigger being run, 1-based (0: none)
    emit: Callable[[Message], None] = field(default=lambda _m: None, repr=False)
    blobs: BlobQueue | None = field(default=None, repr=False)  # commits' blobs, behind the build

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.full.get("config") or {})

    def header(self) -> str:
        """BuildKit's step name: `[stage 2/5] COPY a b`, `[stage 1/5] ONBUILD RUN make`."""
        where = f"{self.label} " if self.label else ""
        onbuild = "ONBUILD " if self.trigger else ""
        return f"[{where}{self.index}/{self.count}] {onbuild}{self.instruction}"

    def event(self, step: int, event: str, **fields: Any) -> Message:
        """A step event of step `step`, or of the trigger being run within it."""
        if self.trigger:
            fields["trigger"] = self.trigger
        return step_event(step, event, **fields)


@dataclass
class BuildRun:
    """One build: its options, unpacked context, step total and finished stages."""

    opts: BuildOptions
    root: Path
    escape: str
    total: int
    used_args: set[str] = field(default_factory=set)
    stage_images: dict[str, str] = field(default_factory=dict)
    last: StageState | None = None  # the state of the target stage, once built
    cache_sources: list[dict[str, Any]] = field(default_factory=list)  # --cache-from configs
    blobs: BlobQueue | None = None  # where commits leave their blobs (blobqueue.py)
    ssh_sessions: SshSessions = field(default_factory=SshSessions)  # the service's (--ssh)

    @property
    def step(self) -> int:
        """The step number the calling task is on."""
        return _current_step.get()

    @step.setter
    def step(self, value: int) -> None:
        _current_step.set(value)

    def scratch(self, step: int) -> Path:
        """A private directory for the files a step makes (heredocs), next to the context."""
        return self.root.parent / "scratch" / str(step)


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def out(build: BuildRun, text: str) -> Message:
    """A `{"stream": …}` message, or nothing when the build is quiet."""
    return {"stream": text} if not build.opts.quiet else {}


def step_event(step: int, event: str, **fields: Any) -> Message:
    """An aux message about step `step` (`start`, `cached`, `miss`, `done`) for our CLI; an
    ONBUILD trigger's events also carry `trigger` (its 1-based index among the triggers)."""
    return {"aux": {STEP_AUX: {"step": step, "event": event, **fields}}}
