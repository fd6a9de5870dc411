"""The whole Dockerfile is checked before any step runs (builder/validate.py), and the stage
dependency scan reads `--mount` values with the mount parser's CSV grammar."""

from __future__ import annotations

import re

import pytest

from dockwright.builder.mounts import check_mounts, mount_sources
from dockwright.builder.parser import parse
from dockwright.builder.stages import depends_on, split_stages
from dockwright.builder.validate import LaterRef, check
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit


def checked(text: str) -> list[LaterRef]:
    return check(split_stages(parse(text))[1])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RUN --mount=type=cache,target=/c,size=1m true", "unexpected key 'size' for mount type 'cache'"),
        ("RUN --mount=type=bind,trget=/c true", "unexpected key 'trget' in 'trget=/c' (did you mean target?)"),
        ("RUN --mount=type=nfs,target=/c true", 'unsupported mount type "nfs"'),
        ("RUN --mount=type=cache,target=/c,uid=x true", "invalid value x for uid"),
        ("RUN --mount=type=secret true", "invalid secret mount. one of source, target required"),
        ("RUN --mount=type=bind,target=/c,from=$X true", "'from' doesn't support variable expansion"),
        ("RUN --network=bridge true", "unsupported network mode 'bridge'"),
        ("COPY --chmod=abc a /b", "invalid chmod parameter 'abc'"),
        ("COPY --link=maybe a /b", "invalid boolean value 'maybe' for --link"),
        ("ADD --checksum=md5:00 http://x/y /y", "unsupported digest algorithm: md5:00"),
        ("COPY --exclude= a /b", "--exclude requires a non-empty pattern"),
        ("ONBUILD FROM busybox", "FROM isn't allowed as an ONBUILD trigger"),
        ("ONBUILD COPY --chmod=9 a /b", "invalid chmod parameter '9'"),
    ],
)  # fmt: skip
def test_mistakes_anywhere_fail_before_the_build(text: str, message: str):
    # the mistake is in a stage the target does not even need: BuildKit refuses it all the same
    with pytest.raises(InvalidParameter, match=re.escape(message)):
        checked(f"FROM busybox AS unused\n{text}\nFROM busybox\nRUN true\n")


def test_ssh_mounts_are_checked_up_front():
    assert checked("FROM busybox\nRUN --mount=type=ssh,id=git,required true\n") == []
    with pytest.raises(InvalidParameter, match="ssh does not support source"):
        checked("FROM busybox\nRUN --mount=type=ssh,source=/x true\n")


def test_values_with_variables_wait_for_their_step():
    text = (
        "FROM busybox\nARG UID=7\n"
        "RUN --mount=type=cache,target=/c,uid=$UID,mode=0700 --mount=type=$T,size=$S true\n"
        "ADD --checksum=$SUM http://x/y /y\nCOPY --from=$STAGE a /b\n"
    )
    assert checked(text) == []
    # a misspelt key is wrong whatever its value
    with pytest.raises(InvalidParameter, match="unexpected key 'uidd'"):
        checked("FROM busybox\nRUN --mount=type=cache,target=/c,uidd=$UID true\n")


def test_copy_from_an_index_names_an_earlier_stage():
    with pytest.raises(
        InvalidParameter, match="invalid from flag value 1: refers to current build stage"
    ):
        checked("FROM busybox\nFROM busybox\nCOPY --from=1 /a /b\n")
    with pytest.raises(InvalidParameter, match="invalid from flag value 2: index out of bounds"):
        checked("FROM busybox\nCOPY --from=2 /a /b\nFROM busybox\nFROM busybox\n")
    with pytest.raises(InvalidParameter, match="invalid from flag value -1: index out of bounds"):
        checked("FROM busybox\nRUN --mount=from=-1,target=/m true\n")
    assert checked("FROM busybox\nFROM busybox\nCOPY --from=0 /a /b\n") == []


def test_names_of_this_or_a_later_stage_are_returned_for_an_image_check():
    text = ("FROM busybox AS first\nCOPY --from=LATER /a /b\nCOPY --from=first /a /c\n"
            "FROM busybox AS later\nRUN --mount=from=first,target=/m true\n"
            "RUN --mount=from=later,target=/m true\nCOPY --from=busybox /bin/sh /sh\n")  # fmt: skip
    # stage "first" naming itself, and stage "later" before it exists: images, or mistakes
    assert checked(text) == [LaterRef("LATER", 2), LaterRef("first", 3), LaterRef("later", 6)]


def test_mount_sources_read_the_csv_grammar():
    ins = parse('FROM x\nRUN --mount=type=bind,"from=a,b",target=/m --mount=from=c true\n')
    run = ins.instructions[1]
    assert mount_sources(run) == ["a,b", "c"]
    check_mounts(run)


def test_stage_dependencies_use_the_mount_parser():
    text = ("FROM busybox AS base\nFROM busybox AS tools\nFROM busybox\n"
            "RUN --mount=type=bind,from=tools,target=/t --mount=type=cache,target=/c true\n")  # fmt: skip
    _meta, stages = split_stages(parse(text))
    assert depends_on(stages[2], stages, {}, "\\") == {1}
