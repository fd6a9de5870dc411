"""docker cp path rules: where the archive goes and how its top entry is renamed."""

from __future__ import annotations

import base64
import json

import pytest

from dockwright.cli.cpplan import (
    CopyPlan,
    PathInfo,
    decode_stat,
    plan_copy,
    rebase,
    split_cp_arg,
    stat_is_dir,
)

pytestmark = pytest.mark.unit


def test_split_cp_arg() -> None:
    assert split_cp_arg("web:/etc/hosts") == ("web", "/etc/hosts")
    assert split_cp_arg("/tmp/a:b") == ("", "/tmp/a:b")
    assert split_cp_arg("./a:b") == ("", "./a:b")
    assert split_cp_arg("plain") == ("", "plain")


def test_into_existing_directory() -> None:
    assert plan_copy(PathInfo("/etc/hosts", True), PathInfo("/tmp/out", True, True)) == CopyPlan(
        "/tmp/out"
    )


def test_file_to_new_name() -> None:
    plan = plan_copy(PathInfo("/etc/hosts", True), PathInfo("/tmp/h2", False))
    assert plan == CopyPlan("/tmp", "hosts", "h2")
    assert rebase("hosts", plan.old, plan.new) == "h2"


def test_dir_to_new_dir_renames_top() -> None:
    plan = plan_copy(PathInfo("/etc", True, True), PathInfo("/tmp/etc2", False))
    assert rebase("etc/passwd", plan.old, plan.new) == "etc2/passwd"


def test_contents_of_dir() -> None:
    plan = plan_copy(PathInfo("/etc/.", True, True), PathInfo("/tmp/new", False))
    assert rebase("./passwd", plan.old, plan.new) == "new/passwd"


def test_errors() -> None:
    with pytest.raises(Exception, match="cannot copy directory to file"):
        plan_copy(PathInfo("/etc", True, True), PathInfo("/tmp/file", True, False))
    with pytest.raises(Exception, match="no such directory"):
        plan_copy(PathInfo("/etc/hosts", True), PathInfo("/tmp/missing/", False))


def test_stat_header() -> None:
    header = base64.b64encode(
        json.dumps({"name": "etc", "mode": (1 << 31) | 0o755}).encode()
    ).decode()
    assert stat_is_dir(decode_stat(header))
    assert decode_stat("!!") is None
