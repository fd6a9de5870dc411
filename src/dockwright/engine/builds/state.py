"""The state of one running build and of the stage being built, and the stream messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockwright.builder.options import BuildOptions

Message = dict[str, Any]


@dataclass
class StageState:
    """One stage while it builds: current image, its config, the ARGs it declared."""

    image_id: str
    full: dict[str, Any]
    args: dict[str, str] = field(default_factory=dict)
    cmd_set: bool = False

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.full.get("config") or {})


@dataclass
class BuildRun:
    """One build: its options, unpacked context, step counter and finished stages."""

    opts: BuildOptions
    root: Path
    escape: str
    total: int
    step: int = 0
    used_args: set[str] = field(default_factory=set)
    stage_images: dict[str, str] = field(default_factory=dict)
    last: StageState | None = None  # the state of the last stage built

    def scratch(self, step: int) -> Path:
        """A private directory for the files a step makes (heredocs), next to the context."""
        return self.root.parent / "scratch" / str(step)


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def out(build: BuildRun, text: str) -> Message:
    """A `{"stream": …}` message, or nothing when the build is quiet."""
    return {"stream": text} if not build.opts.quiet else {}
