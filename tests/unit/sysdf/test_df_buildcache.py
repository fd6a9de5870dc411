"""`system df -v`'s build cache rows as the docker CLI prints them (formatter/buildcache.go:
sorted by last use, never-used first, ties by ID; `*` on in-use IDs) and `builder prune`'s
query and text (cli/command/builder/prune.go)."""

from __future__ import annotations

from typing import Any

import pytest

from dockwright.cli import dfviews
from dockwright.cli.cmd_builder import prune_params, prune_text
from dockwright.cli.cmd_df import verbose_text
from dockwright.cli.context import CommandExit

pytestmark = pytest.mark.unit

NOW = 1_700_000_000.0


def rec(ident: str, used: str | None, **kw: Any) -> dict[str, Any]:
    return {"ID": ident, "Type": "regular", "Size": 2048, "CreatedAt": "2023-11-14T20:13:20Z",
            "LastUsedAt": used, "UsageCount": 2, "InUse": False, "Shared": False,
            "Description": "RUN x", "Parents": None, **kw}  # fmt: skip


DU = {
    "BuildCache": [
        rec("c" * 25, "2023-11-14T22:00:00.000000300Z"),
        rec("b" * 25, "2023-11-14T22:00:00.000000200Z", InUse=True),
        rec("a" * 25, "2023-11-14T23:00:00+01:00"),  # 22:00:00 UTC, before both
        rec("z" * 25, None, Type="exec.cachemount"),
        rec("y" * 25, "2023-11-14T22:00:00.000000300Z", Shared=True, Size=10**6),
    ]
}


def test_rows_come_in_the_docker_cli_order():
    views = dfviews.cache_views(DU, NOW)
    assert [v.ID for v in views] == ["z" * 12, "a" * 12, "b" * 12 + "*", "c" * 12, "y" * 12]
    assert (views[0].LastUsedSince, views[0].LastUsedAt) == ("", "")
    assert views[1].LastUsedSince == "13 minutes ago" and views[1].CreatedSince == "2 hours ago"


def test_verbose_table_columns():
    text = verbose_text(DU, NOW)
    section = text[text.index("Build cache usage:") :].splitlines()
    assert section[0] == "Build cache usage: 8.192kB"  # unshared sizes only
    assert section[2].split() == ["CACHE", "ID", "CACHE", "TYPE", "SIZE", "CREATED", "LAST",
                                  "USED", "USAGE", "SHARED"]  # fmt: skip
    assert section[3].split() == ["z" * 12, "exec.cachemount", "2.05kB", "2", "hours", "ago", "2",
                                  "false"]  # fmt: skip
    assert section[5].split()[0] == "b" * 12 + "*"


def test_verbose_json_has_every_field_untruncated():
    row = dfviews.verbose_json(DU, NOW)["BuildCache"][2]
    assert list(row) == sorted(row)
    assert row["ID"] == "b" * 25 + "*" and row["InUse"] == "true" and row["Parent"] == ""
    assert row["LastUsedAt"] == "2023-11-14 22:00:00.0000002 +0000 UTC"
    assert dfviews.go_time_string("2023-11-14T23:00:00+01:00") == "2023-11-14 23:00:00 +0100 +0100"


def test_prune_query_and_text():
    params = prune_params(True, ["until=24h", "type=regular"], "1gb")
    assert params == {"all": True, "keep-storage": 1 << 30,
                      "filters": '{"until":{"24h":true},"type":{"regular":true}}'}  # fmt: skip
    assert prune_params(False, [], "")["filters"] == "{}"
    with pytest.raises(CommandExit):
        prune_params(False, [], "lots")
    with pytest.raises(CommandExit) as exc:
        prune_params(False, ["", "until"], "")
    assert exc.value.message == (
        'invalid argument "until" for "--filter" flag: bad format of filter (expected name=value)'
    )
    assert prune_text({"CachesDeleted": ["k1", "k2"], "SpaceReclaimed": 2048}) == (
        "Deleted build cache objects:\nk1\nk2\n\nTotal reclaimed space: 2.048kB\n"
    )
    assert prune_text({"CachesDeleted": None, "SpaceReclaimed": 0}) == "Total reclaimed space: 0B\n"
