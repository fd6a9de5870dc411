"""The cache that explains itself (pure parts): why a step missed, --cache-from matching, the
stage DAG and its scheduler, platform checks, the plain progress renderer, df records."""

from __future__ import annotations

import asyncio

import pytest

from dockwright.builder.cachefrom import find_restorable, next_step
from dockwright.builder.explain import (
    StepRecord,
    best_candidate,
    explain_miss,
    file_changes,
    file_map,
    visible_args,
)
from dockwright.builder.history import child_config
from dockwright.builder.options import BuildOptions
from dockwright.builder.parser import parse
from dockwright.builder.stages import StagePlan, dependencies, select, split_stages
from dockwright.cli.buildprogress import PlainProgress
from dockwright.engine.builds.baseimage import BaseImages, parse_platform, platform_matches
from dockwright.engine.builds.schedule import run_stages
from dockwright.engine.builds.usage import CacheEntry, step_records, step_uses
from dockwright.errors import InvalidParameter, NotFound

pytestmark = pytest.mark.unit
P = "sha256:" + "a" * 64


def rec(instruction: str, args=None, files=None, source: str = "") -> StepRecord:
    return StepRecord(P, instruction, args or {}, files or {}, source)


# -- why a step missed ----------------------------------------------------------------------


def test_reasons_in_order_of_precedence():
    now = rec("RUN make")
    assert explain_miss(now, [now], no_cache=True) == "--no-cache was given"
    assert explain_miss(now, [now], parent_missed=True) == "the previous step was rebuilt"
    assert explain_miss(now, []) == "no build cache for parent image aaaaaaaaaaaa"


def test_a_changed_copied_file_is_named():
    old = rec("COPY app.py /app/", files={"app.py": "644:1", "lib.py": "644:2", ".": "755:dir"})
    new = rec("COPY app.py /app/", files={"app.py": "644:9", "new.py": "644:3", ".": "755:dir"})
    assert (
        explain_miss(new, [old]) == "file changed: app.py; file added: new.py; file removed: lib.py"
    )


def test_a_mode_change_counts_and_directories_are_not_listed_as_changed():
    old = {"run.sh": "644:1", "d": "755:dir"}
    assert file_changes(old, {"run.sh": "755:1", "d": "700:dir"}) == ["file changed: run.sh"]


def test_many_files_are_counted_not_all_named():
    old = {f"f{i}": "644:1" for i in range(8)}
    new = {f"f{i}": "644:2" for i in range(8)}
    assert file_changes(old, new) == ["files changed: f0, f1, f2, f3, f4 and 3 more"]


def test_a_changed_build_argument_is_named():
    old, new = rec("RUN make", {"V": "1", "X": "a"}), rec("RUN make", {"V": "2", "Y": "b"})
    assert explain_miss(new, [old]) == (
        "build argument V changed ('1' -> '2'); build argument X removed (was 'a'); "
        "build argument Y added ('b')"
    )


def test_a_changed_instruction_names_the_old_text():
    assert (
        explain_miss(rec("RUN make all"), [rec("RUN make")])
        == "instruction changed (was: RUN make)"
    )
    assert explain_miss(rec("ENV A=1"), [rec("RUN make")]).startswith("new instruction")


def test_copy_from_a_rebuilt_stage():
    old, new = (
        rec("COPY --from=b /x /x", source="sha256:1"),
        rec("COPY --from=b /x /x", source="s2"),
    )
    assert explain_miss(new, [old]) == "the image it copies from changed"


def test_same_inputs_but_no_entry_says_the_result_is_gone():
    assert "cached result is gone" in explain_miss(rec("RUN make"), [rec("RUN make")])


def test_the_latest_matching_candidate_is_compared():
    a, b = rec("RUN x", {"V": "1"}), rec("RUN x", {"V": "2"})
    assert best_candidate(rec("RUN x", {"V": "3"}), [rec("RUN y"), a, b]) is b
    assert best_candidate(rec("RUN z"), [a, rec("COPY a b")]) is a
    assert best_candidate(rec("ENV z=1"), [a]) is None


def test_only_arguments_a_step_can_see_count():
    args = {"V": "1", "W": "2"}
    assert visible_args("run", "RUN make", args) == args
    assert visible_args("copy", "COPY $V /x", args) == {"V": "1"}
    assert visible_args("copy", "COPY ${W} /x", args) == {"W": "2"}
    assert visible_args("env", "ENV A=b", args) == {}


def test_records_round_trip_and_file_maps():
    r = rec("COPY a b", {"V": "1"}, file_map([("a", 0o644, "d1"), ("dir", 0o755, "dir")]), "s")
    assert r.files == {"a": "644:d1", "dir": "755:dir"}
    assert StepRecord.from_json(P, "COPY a b", r.to_json()) == r


# -- --cache-from ---------------------------------------------------------------------------

BASE = {"os": "linux", "architecture": "amd64", "config": {},
        "history": [{"created": "t0", "created_by": "ADD rootfs"}],
        "rootfs": {"type": "layers", "diff_ids": ["sha256:l0"]}}  # fmt: skip


def built() -> list[dict]:
    """BASE, then ENV (no layer), then RUN (a layer): each image the child of the one before."""
    env = child_config(BASE, {"Env": ["A=b"]}, "/bin/sh -c #(nop)  ENV A=b", None, "t1")
    run = child_config(env, {"Env": ["A=b"]}, "/bin/sh -c make", "sha256:l1", "t2")
    return [BASE, env, run]


def test_a_step_is_found_in_a_cache_source_history():
    base, env, run = built()
    found = next_step(base, run, "/bin/sh -c #(nop)  ENV A=b")
    assert found is not None and found.diff_id is None and found.entry["created"] == "t1"
    found = next_step(env, run, "/bin/sh -c make")
    assert found is not None and found.diff_id == "sha256:l1"


def test_a_restored_step_rebuilds_the_same_config():
    base, env, run = built()
    found = next_step(env, run, "/bin/sh -c make")
    assert found is not None
    again = child_config(env, {"Env": ["A=b"]}, "/bin/sh -c make", found.diff_id, "t2")
    assert again == run


def test_cache_sources_that_do_not_fit_are_passed_over():
    base, env, run = built()
    assert next_step(base, run, "/bin/sh -c make") is None  # not the next step
    assert next_step(run, run, "/bin/sh -c x") is None  # nothing after it
    other = {**BASE, "history": [{"created": "t9", "created_by": "ADD other"}]}
    assert next_step(other, run, "/bin/sh -c #(nop)  ENV A=b") is None  # another base
    layers = {**BASE, "rootfs": {"type": "layers", "diff_ids": ["sha256:zz"]}}
    assert next_step(layers, run, "/bin/sh -c #(nop)  ENV A=b") is None
    assert find_restorable(env, [base, run], "/bin/sh -c make") is not None
    assert find_restorable(env, [base], "/bin/sh -c make") is None


# -- stage DAG and scheduling ---------------------------------------------------------------

DAG = (
    "FROM busybox AS a\nRUN a\nFROM busybox AS b\nRUN b\nFROM busybox AS c\n"
    "RUN --mount=type=bind,from=b,target=/b true\nFROM a\nCOPY --from=c /x /x\n"
)


def test_dependencies_follow_from_copy_from_and_mount_from():
    _, stages = split_stages(parse(DAG))
    chosen = select(stages, "", {})
    assert [s.index for s in chosen] == [0, 1, 2, 3]
    deps = dependencies(chosen, stages, {})
    assert deps == {0: frozenset(), 1: frozenset(), 2: {1}, 3: {0, 2}}
    plan = StagePlan(chosen, deps, offset=1)
    assert [plan.first_step(i) for i in plan.order] == [2, 4, 6, 8]
    assert [plan.label(s) for s in chosen] == ["a", "b", "c", "stage-3"]
    assert StagePlan(chosen[:1], {0: frozenset()}).label(chosen[0]) == ""


def test_a_stage_named_only_in_a_mount_is_needed_by_the_target():
    _, stages = split_stages(parse(DAG))
    assert [s.name for s in select(stages, "c", {})] == ["b", "c"]


def _collect(order, deps, job) -> list:
    async def scenario() -> list:
        return [m async for m in run_stages(order, deps, job)]

    return asyncio.run(asyncio.wait_for(scenario(), 5))


def test_independent_stages_overlap_and_output_stays_in_stage_order():
    events: list[str] = []

    async def job(i: int, emit) -> None:
        events.append(f"start{i}")
        emit({"stream": f"{i}a"})
        await asyncio.sleep(0.05 if i == 0 else 0.01)
        emit({"stream": f"{i}b"})
        events.append(f"end{i}")

    got = _collect([0, 1, 2], {0: frozenset(), 1: frozenset(), 2: frozenset({0, 1})}, job)
    assert [m["stream"] for m in got] == ["0a", "0b", "1a", "1b", "2a", "2b"]
    assert events.index("start1") < events.index("end0")  # 1 ran while 0 slept
    assert events.index("start2") > max(events.index("end0"), events.index("end1"))


def test_a_failing_stage_ends_the_stream_and_cancels_the_others():
    cancelled: list[int] = []

    async def job(i: int, emit) -> None:
        emit({"stream": f"{i} began"})
        if i == 1:
            raise InvalidParameter("stage 1 broke")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise

    got: list = []

    async def scenario() -> None:
        async for m in run_stages([0, 1], {0: frozenset(), 1: frozenset()}, job):
            got.append(m)

    with pytest.raises(InvalidParameter, match="stage 1 broke"):
        asyncio.run(asyncio.wait_for(scenario(), 5))
    assert got == [{"stream": "0 began"}, {"stream": "1 began"}] and cancelled == [0]


# -- platforms ------------------------------------------------------------------------------


def test_platform_matching():
    image = {"os": "linux", "architecture": "amd64"}
    assert platform_matches("", image) and platform_matches("linux/amd64", image)
    assert platform_matches("linux/x86_64", image) and platform_matches("linux", image)
    assert not platform_matches("linux/arm64", image)
    assert not platform_matches("linux/amd64/v3", image)
    assert platform_matches("linux/arm/v7", {"os": "linux", "architecture": "arm", "variant": "v7"})
    assert parse_platform("Linux/AARCH64") == ("linux", "arm64", "")
    with pytest.raises(InvalidParameter, match="invalid platform 'linux//x'"):
        parse_platform("linux//x")


# -- plain progress -------------------------------------------------------------------------


def step(n: int, event: str, **kw) -> dict:
    return {"aux": {"dockwright.step": {"step": n, "event": event, **kw}}}


def test_plain_progress_prints_buildkit_style_lines():
    lines: list[str] = []
    p = PlainProgress(lines.append)
    for msg in [
        {"stream": "Step 1/2 : FROM busybox\n"}, step(1, "start", name="[1/2] FROM busybox"),
        {"stream": " ---> 0123456789ab\n"}, step(1, "done", seconds=0.01),
        {"stream": "Step 2/2 : COPY app.py /app/\n"},
        step(2, "start", name="[2/2] COPY app.py /app/"),
        step(2, "miss", reason="file changed: app.py"), {"stream": "out"}, {"stream": "put\nno"},
        {"stream": " ---> Removed intermediate container 0123\n"}, {"stream": " newline"},
        step(2, "done", seconds=0.26), {"aux": {"ID": "sha256:abc"}},
        {"stream": "Successfully built abc\n"}, {"stream": "Successfully tagged demo:1\n"},
    ]:  # fmt: skip
        p.feed(msg)
    p.finish("sha256:abc")
    assert "".join(lines) == (
        "#1 [1/2] FROM busybox\n#1 DONE 0.0s\n\n"
        "#2 [2/2] COPY app.py /app/\n#2 cache miss: COPY app.py /app/: file changed: app.py\n"
        "#2 output\n#2 no newline\n#2 DONE 0.3s\n\n"
        "#3 exporting to image\n#3 writing image sha256:abc done\n"
        "#3 naming to docker.io/library/demo:1 done\n#3 DONE 0.0s\n"
    )


def test_plain_progress_cached_steps_and_errors():
    lines: list[str] = []
    p = PlainProgress(lines.append)
    p.feed(step(4, "start", name="[build 2/3] RUN make"))
    p.feed(step(4, "cached", source="cache-from"))
    p.feed(step(4, "done", seconds=0))
    p.feed(step(5, "start", name="[build 3/3] RUN false"))
    p.error("The command '/bin/sh -c false' returned a non-zero code: 1")
    assert "".join(lines) == (
        "#4 [build 2/3] RUN make\n#4 CACHED (from --cache-from image)\n\n"
        "#5 [build 3/3] RUN false\n"
        "#5 ERROR: The command '/bin/sh -c false' returned a non-zero code: 1\n"
    )


# -- system df ------------------------------------------------------------------------------


def cache_records(entries, images, in_use=frozenset()):  # type: ignore[no-untyped-def]
    return step_records(step_uses(entries, images, in_use))


def test_cache_records_in_dockers_shape():
    entries = [CacheEntry("k1", "i1", "base", "RUN a", 1_000_000_000, 2_000_000_000, 3),
               CacheEntry("k2", "i2", "i1", "COPY x y", 1_500_000_000, 1_500_000_000, 1)]  # fmt: skip
    images = [{"Id": "base", "ParentId": "", "RepoTags": ["busybox:latest"], "Size": 100},
              {"Id": "i1", "ParentId": "base", "RepoTags": [], "Size": 150},
              {"Id": "i2", "ParentId": "i1", "RepoTags": ["app:1"], "Size": 170}]  # fmt: skip
    first, second = cache_records(entries, images)
    assert first == {
        "ID": "k1", "Parents": None, "Type": "regular", "Description": "RUN a", "InUse": False,
        "Shared": True, "Size": 50, "CreatedAt": "1970-01-01T00:00:01Z",
        "LastUsedAt": "1970-01-01T00:00:02Z", "UsageCount": 3,
    }  # fmt: skip
    assert second["Parent"] == "k1" and second["Parents"] == ["k1"] and second["Size"] == 20
    untagged = [{**i, "RepoTags": []} if i["Id"] == "i2" else i for i in images]
    assert [r["Shared"] for r in cache_records(entries, untagged)] == [False, False]
    assert [r["InUse"] for r in cache_records(entries, images, {"i2"})] == [False, True]


# -- FROM images: local, pulled, platform-checked -----------------------------------------


class FakeImages:
    """Just what BaseImages uses: resolve, image_config and pull (which may fail)."""

    def __init__(self, local: dict[str, dict], remote: dict[str, dict]) -> None:
        self.local, self.remote, self.pulls = local, remote, []

    def resolve(self, name: str) -> tuple[str, dict]:
        if name not in self.local:
            raise NotFound(f"No such image: {name}")
        return "id-" + name, {}

    def image_config(self, image_id: str) -> dict:
        return self.local[image_id.removeprefix("id-")]

    async def pull(self, name: str, tag, platform):
        self.pulls.append((name, platform))
        if name not in self.remote:
            raise NotFound(f"manifest for {name} not found")
        self.local[name] = self.remote[name]
        yield {"status": f"Pulling from {name}"}


def _base(images: FakeImages, name: str, platform: str = "", pull: bool = False):
    seen: list[dict] = []
    got = asyncio.run(
        BaseImages(images).get(name, BuildOptions(pull=pull), platform, seen.append)  # type: ignore[arg-type]
    )
    return got, seen


AMD = {"os": "linux", "architecture": "amd64"}
ARM = {"os": "linux", "architecture": "arm64"}


def test_a_local_image_is_used_without_pulling():
    images = FakeImages({"b": AMD}, {})
    assert _base(images, "b", "linux/amd64") == ("id-b", []) and images.pulls == []


def test_a_missing_image_or_pull_flag_pulls_with_the_platform():
    images = FakeImages({}, {"b": AMD})
    assert _base(images, "b", "linux/amd64") == ("id-b", [{"status": "Pulling from b"}])
    assert images.pulls == [("b", "linux/amd64")]
    _base(images, "b", pull=True)
    assert images.pulls[-1] == ("b", None)
    with pytest.raises(NotFound, match="manifest for gone not found"):
        _base(FakeImages({}, {}), "gone")
    with pytest.raises(NotFound, match="manifest for b not found"):
        _base(FakeImages({"b": AMD}, {}), "b", pull=True)


def test_a_local_image_of_another_platform_is_pulled_or_refused():
    images = FakeImages({"b": AMD}, {"b": ARM})
    assert _base(images, "b", "linux/arm64")[0] == "id-b" and images.pulls == [("b", "linux/arm64")]
    with pytest.raises(NotFound, match=(
        "image with reference b was found but does not match the specified platform: "
        "wanted linux/arm64, actual: linux/amd64"
    )):  # fmt: skip
        _base(FakeImages({"b": AMD}, {}), "b", "linux/arm64")
