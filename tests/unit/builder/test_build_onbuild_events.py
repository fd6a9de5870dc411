"""ONBUILD triggers are steps of their own in the step events and in `--progress=plain`, and
a RUN's bind-mounted context files are named when they make it miss the cache."""

from __future__ import annotations

import pytest

from dockwright.builder.explain import StepRecord, explain_miss, file_map
from dockwright.cli.buildprogress import PlainProgress
from dockwright.engine.builds.state import STEP_AUX, StageState

pytestmark = pytest.mark.unit


def test_trigger_events_carry_their_index_and_name():
    state = StageState("img", {}, label="app", count=3, index=1, instruction="RUN make")
    assert state.event(2, "cached") == {"aux": {STEP_AUX: {"step": 2, "event": "cached"}}}
    state.trigger = 2
    assert state.header() == "[app 1/3] ONBUILD RUN make"
    assert state.event(2, "miss", reason="r") == {
        "aux": {STEP_AUX: {"step": 2, "event": "miss", "reason": "r", "trigger": 2}}
    }


def ev(step: int, event: str, trigger: int = 0, **fields: object) -> dict:
    body = {"step": step, "event": event, **fields, **({"trigger": trigger} if trigger else {})}
    return {"aux": {STEP_AUX: body}}


def test_plain_progress_shows_triggers_as_vertices_and_renumbers_after_them():
    lines: list[str] = []
    p = PlainProgress(lines.append)
    for msg in [
        ev(1, "start", name="[1/2] FROM base"), ev(1, "done", seconds=0),
        {"stream": "# Executing 2 build triggers\n"},
        ev(1, "start", 1, name="[1/2] ONBUILD COPY . /src"), ev(1, "cached", 1),
        ev(1, "done", 1, seconds=0),
        ev(1, "start", 2, name="[1/2] ONBUILD RUN make"),
        ev(1, "miss", 2, reason="the previous step was rebuilt"),
        {"stream": "built\n"}, ev(1, "done", 2, seconds=1.25),
        ev(2, "start", name="[2/2] CMD run"), ev(2, "cached"), ev(2, "done", seconds=0),
    ]:  # fmt: skip
        p.feed(msg)
    p.finish("sha256:abc")
    assert "".join(lines) == (
        "#1 [1/2] FROM base\n#1 DONE 0.0s\n\n"
        "#2 [1/2] ONBUILD COPY . /src\n#2 CACHED\n\n"
        "#3 [1/2] ONBUILD RUN make\n#3 cache miss: ONBUILD RUN make: the previous step was rebuilt\n"
        "#3 built\n#3 DONE 1.2s\n\n"
        "#4 [2/2] CMD run\n#4 CACHED\n\n"
        "#5 exporting to image\n#5 writing image sha256:abc done\n#5 DONE 0.0s\n"
    )


def test_a_bind_mounted_context_file_that_changed_is_named():
    run = "RUN --mount=type=bind,source=src,target=/src make -C /src"
    old = StepRecord("p", run, {}, file_map([("src", 0o755, "dir"), ("src/a.c", 0o644, "1")]))
    new = StepRecord("p", run, {}, file_map([("src", 0o755, "dir"), ("src/a.c", 0o644, "2"),
                                             ("src/b.c", 0o644, "3")]))  # fmt: skip
    assert explain_miss(new, [old]) == "file changed: src/a.c; file added: src/b.c"
