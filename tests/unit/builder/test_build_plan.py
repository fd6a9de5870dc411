"""Stages, ARGs, metadata steps and cache keys (pure parts of the builder)."""

from __future__ import annotations

import pytest

from dockwright.builder import steps
from dockwright.builder.cache import content_digest, step_key
from dockwright.builder.history import child_config
from dockwright.builder.parser import parse
from dockwright.builder.stages import base_name, meta_args, select, split_stages
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit
MULTI = "ARG V=1\nFROM img:$V AS one\nRUN a\nFROM one AS Two\nCOPY --from=one /x /y\nFROM busybox\n"


def test_stages_and_meta_args():
    meta, stages = split_stages(parse(MULTI))
    assert [s.name for s in stages] == ["one", "two", ""]
    assert [len(s.instructions) for s in stages] == [1, 1, 0]
    assert base_name(stages[0], meta_args(meta, {}, "\\"), "\\") == "img:1"
    assert base_name(stages[0], meta_args(meta, {"V": "2"}, "\\"), "\\") == "img:2"


def test_target_selects_the_stages_it_needs():
    _, stages = split_stages(parse(MULTI))
    assert [s.name for s in select(stages, "TWO")] == ["one", "two"]
    assert [s.name for s in select(stages, "")] == [""]
    chain = (
        "FROM a AS x\nFROM b AS y\nFROM c AS z\nCOPY --from=0 /a /a\nFROM y\nCOPY --from=z /b /b\n"
    )
    _, stages = split_stages(parse(chain))
    assert [s.index for s in select(stages, "")] == [0, 1, 2, 3]
    assert [s.index for s in select(stages, "z")] == [0, 2]
    _, stages = split_stages(parse("FROM a AS x\nFROM b\nCOPY --from=$S /a /a\n"))
    assert [s.index for s in select(stages, "")] == [0, 1]
    with pytest.raises(InvalidParameter, match="failed to reach build target nope"):
        select(stages, "nope")


def test_instruction_before_from_is_refused():
    with pytest.raises(InvalidParameter, match="no build stage"):
        split_stages(parse("RUN x\nFROM y\n"))


def meta(line: str, config=None, env=None):
    ins = parse("FROM x\n" + line).instructions[1]
    return steps.apply(config or {}, ins, env or {}, "\\")


def test_env_label_workdir_and_expose():
    config, desc = meta('ENV A=1 B="two words"')
    assert config["Env"] == ["A=1", "B=two words"] and desc == "ENV A=1 B=two words"
    config, _ = meta("ENV A 1 2", config)
    assert config["Env"] == ["B=two words", "A=1 2"]
    assert meta("LABEL a=$X", env={"X": "y"})[0]["Labels"] == {"a": "y"}
    assert meta("WORKDIR rel", {"WorkingDir": "/base"})[0]["WorkingDir"] == "/base/rel"
    assert meta("WORKDIR /a/../b/")[0]["WorkingDir"] == "/b"
    assert meta("EXPOSE 80 53/UDP")[0]["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}


def test_cmd_forms_and_shell():
    assert meta("CMD echo hi")[0]["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    assert meta("CMD echo hi", {"Shell": ["/bin/bash", "-c"]})[0]["Cmd"] == [
        "/bin/bash",
        "-c",
        "echo hi",
    ]
    assert meta('CMD ["a", "b"]')[0]["Cmd"] == ["a", "b"]
    with pytest.raises(InvalidParameter, match="JSON form"):
        meta("SHELL /bin/bash")


def test_healthcheck():
    config, _ = meta("HEALTHCHECK --interval=1m30s --retries=2 CMD true")
    assert config["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 90_000_000_000,
                                     "Retries": 2}  # fmt: skip
    assert meta("HEALTHCHECK NONE")[0]["Healthcheck"] == {"Test": ["NONE"]}


def test_env_overrides_arg_in_expansion():
    assert steps.expansion_env({"Env": ["A=env"]}, {"A": "arg", "B": "b"}) == {"A": "env", "B": "b"}


def test_cache_key_depends_on_every_input():
    base = step_key("sha256:p", "RUN x", {"Env": ["A=1"]}, "c")
    assert base == step_key("sha256:p", "RUN x", {"Env": ["A=1"]}, "c")
    assert base != step_key("sha256:q", "RUN x", {"Env": ["A=1"]}, "c")
    assert base != step_key("sha256:p", "RUN y", {"Env": ["A=1"]}, "c")
    assert base != step_key("sha256:p", "RUN x", {"Env": ["A=2"]}, "c")
    assert base != step_key("sha256:p", "RUN x", {"Env": ["A=1"]}, "d")


def test_content_digest_ignores_order_not_content():
    a = [("x", 0o644, "h1"), ("y", 0o755, "h2")]
    assert content_digest(a) == content_digest(list(reversed(a)))
    assert content_digest(a) != content_digest([("x", 0o644, "h1"), ("y", 0o644, "h2")])


def test_child_config_appends_history_and_layer():
    parent = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ["d1"]},
              "history": [{"created_by": "base"}]}  # fmt: skip
    empty = child_config(parent, {"Cmd": ["sh"], "User": ""}, "nop", None, "t")
    assert empty["rootfs"]["diff_ids"] == ["d1"] and empty["history"][-1]["empty_layer"]
    assert empty["config"] == {"Cmd": ["sh"]}
    layered = child_config(parent, {}, "run", "d2", "t")
    assert (
        layered["rootfs"]["diff_ids"] == ["d1", "d2"]
        and "empty_layer" not in layered["history"][-1]
    )


def test_run_heredoc_scripts():
    bare = parse("FROM x\nRUN <<EOF\necho a\nEOF\n").instructions[1]
    assert steps.command(bare, {}) == ["/bin/sh", "-c", "echo a\n"]
    fed = parse("FROM x\nRUN cat <<EOF > /f\nbody\nEOF\n").instructions[1]
    assert steps.command(fed, {}) == ["/bin/sh", "-c", "cat <<EOF > /f\nbody\nEOF\n"]
