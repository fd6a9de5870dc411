"""Dockerfile parser: golden files (DW_UPDATE_GOLDEN=1 rewrites them after a deliberate change)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from dockwright.builder.parser import parse
from dockwright.errors import InvalidParameter, NotImplementedYet

pytestmark = pytest.mark.unit
GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.Dockerfile"))


def render(text: str) -> str:
    df = parse(text)
    doc = {"escape": df.escape, "directives": df.directives,
           "instructions": [asdict(i) for i in df.instructions]}  # fmt: skip
    return json.dumps(doc, indent=2) + "\n"


@pytest.mark.parametrize("name", CASES)
def test_golden(name):
    got = render((GOLDEN / f"{name}.Dockerfile").read_text())
    expected = GOLDEN / f"{name}.json"
    if os.environ.get("DW_UPDATE_GOLDEN") == "1":
        expected.write_text(got)
    assert got == expected.read_text()


def test_golden_cases_exist():
    assert len(CASES) >= 2


def test_continuation_and_comment_inside_instruction():
    df = parse("FROM x\nRUN a \\\n# note\n  b\n")
    assert df.instructions[1].rest == "a   b"


def test_json_and_shell_forms():
    run, cmd = parse('FROM x\nRUN ["a", "b"]\nCMD [not json\n').instructions[1:]
    assert run.json == ("a", "b")
    assert cmd.json is None and cmd.rest == "[not json"


def test_flags_are_split_from_the_arguments():
    copy = parse("FROM x\nCOPY --from=build --chown=1:2 a b\n").instructions[1]
    assert copy.flag("from") == "build" and copy.flag("chown") == "1:2"
    assert copy.rest == "a b"


def test_escape_directive_only_at_the_top():
    df = parse("FROM x\n# escape=`\nRUN a \\\n  b\n")
    assert df.escape == "\\" and df.instructions[1].rest == "a   b"


def test_unknown_instruction_names_the_line():
    with pytest.raises(InvalidParameter, match="line 2: unknown instruction: FORM"):
        parse("FROM x\nFORM y\n")


def test_bad_escape_token():
    with pytest.raises(InvalidParameter, match="invalid escape token"):
        parse("# escape=x\nFROM y\n")


def test_flags_are_checked():
    with pytest.raises(InvalidParameter, match="line 2: unknown flag: form"):
        parse("FROM x\nCOPY --form=a b c\n")
    with pytest.raises(NotImplementedYet, match="RUN --security is not supported yet"):
        parse("FROM x\nRUN --security=insecure true\n")
