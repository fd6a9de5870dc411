"""`builder prune`'s planner (engine/builds/prunefilter.py): dockerd's filter checks and
messages, BuildKit's choice (in-use kept, children before parents, keep-storage by LRU)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from dockwright.engine.builds.cachemounts import CacheMountInfo
from dockwright.engine.builds.prunefilter import (
    PruneRule,
    Record,
    delete_order,
    go_duration,
    matches,
    parse_keep_storage,
    parse_rule,
    plan_prune,
    records_of,
    until_ns,
)
from dockwright.engine.builds.usage import CacheEntry, step_uses
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit

S = 1_000_000_000
NOW = 1_700_000_000 * S


def step(key: str, image: str, size: int, used: int, count: int = 1, **kw) -> Record:
    return Record(key, "regular", size, kw.pop("shared", False), kw.pop("in_use", False),
                  used * S, count, f"RUN {key}", image=image, **kw)  # fmt: skip


def mount(cache_id: str, size: int, used: int, in_use: bool = False) -> Record:
    return Record(cache_id, "exec.cachemount", size, False, in_use, used * S, 1, "cached mount")


# base (tagged) <- a1 <- a2 (tagged app:1);  base <- b1 <- b2 <- b3 (an untagged build)
PARENTS = {"base": "", "a1": "base", "a2": "a1", "b1": "base", "b2": "b1", "b3": "b2"}
RECORDS = [
    step("ka1", "a1", 50, 10, shared=True), step("ka2", "a2", 20, 11, shared=True),
    step("kb1", "b1", 30, 20, parents=()), step("kb2", "b2", 40, 21, parents=("kb1",)),
    step("kb3", "b3", 0, 22, parents=("kb2",)), mount("m1", 64, 30),
]  # fmt: skip


def ids(plan) -> list[str]:
    return [r.id for r in plan.records]


def rule(filters: dict[str, list[str]] | None = None, **kw) -> PruneRule:
    return parse_rule(filters or {}, NOW, **kw)


def test_no_arguments_removes_every_unused_record_children_first():
    plan = plan_prune(RECORDS, PARENTS, rule())
    assert ids(plan) == ["kb3", "m1", "kb2", "kb1"]  # shared ones stay, as BuildKit keeps them
    assert plan.images == ("b3", "b2", "b1")  # a child before its parent


def test_all_also_forgets_shared_records_but_keeps_their_images():
    plan = plan_prune(RECORDS, PARENTS, rule(all=True))
    assert ids(plan) == ["ka1", "ka2", "kb3", "m1", "kb2", "kb1"]
    assert plan.images == ("b3", "b2", "b1")  # tagged images are built on a1 and a2
    shared = rule({"shared": ["true"]}, all=True)
    assert ids(plan_prune(RECORDS, PARENTS, shared)) == ["ka1", "ka2"]


def test_in_use_records_stay_and_hold_their_parents():
    records = [*RECORDS[:4], replace(RECORDS[4], in_use=True), replace(RECORDS[5], in_use=True)]
    plan = plan_prune(records, PARENTS, rule())
    assert ids(plan) == [] and plan.images == ()


def test_an_image_built_on_by_an_image_no_record_names_stays():
    plan = plan_prune(RECORDS, {**PARENTS, "commit": "b3"}, rule())
    assert "kb3" not in ids(plan) and plan.images == ()


def test_records_sharing_an_image_delete_it_once_with_the_last():
    records = [step("x1", "b1", 30, 5), step("x2", "b1", 0, 6)]
    plan = plan_prune(records, {"b1": ""}, rule({"id": ["^x2$"]}))
    assert ids(plan) == ["x2"] and plan.images == ()  # x1 still names b1
    plan = plan_prune(records, {"b1": ""}, rule())
    assert ids(plan) == ["x1", "x2"] and plan.images == ("b1",)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"type": ["exec.cachemount"]}, ["m1"]),
        ({"type": ["regular"], "shared": ["true"]}, []),  # shared ones go only with `all`
        ({"private": ["1"]}, ["kb3", "m1", "kb2", "kb1"]),
        ({"id": ["^kb"]}, ["kb3", "kb2", "kb1"]),
        ({"id": ["b2"]}, []),  # b3 is left and built on b2
        ({"parent": ["kb2"]}, ["kb3"]),
        ({"description": ["RUN kb2"]}, []),  # b3 is left and built on b2
        ({"description": ["RUN kb3"]}, ["kb3"]),
        ({"description": ["RUN"]}, []),
        ({"inuse": ["false"]}, ["kb3", "m1", "kb2", "kb1"]),
        ({"inuse": ["true"]}, []),
        ({"until": ["21"]}, []),  # kb1 and kb2 are old enough, b3 holds them
        ({"label": ["a=b"]}, ["kb3", "m1", "kb2", "kb1"]),  # accepted, ignored
    ],
)
def test_filters(filters, expected):
    assert ids(plan_prune(RECORDS, PARENTS, rule(filters))) == expected


def test_until_keeps_records_used_after_the_moment():
    records = [step("old", "o", 10, 1_699_000_000), step("new", "n", 10, 1_699_999_990)]
    parents = {"o": "", "n": ""}
    assert ids(plan_prune(records, parents, rule({"until": ["1h"]}))) == ["old"]
    assert ids(plan_prune(records, parents, rule({"unused-for": ["1s"]}))) == ["old", "new"]
    stamp = datetime.fromtimestamp(1_699_500_000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(plan_prune(records, parents, rule({"until": [stamp]}))) == ["old"]


def test_keep_storage_removes_least_recently_used_until_the_rest_fits():
    records = [step("k1", "i1", 100, 1), step("k2", "i2", 100, 2), step("k3", "i3", 100, 3),
               step("k4", "i4", 100, 4), step("s", "i5", 500, 0, shared=True)]  # fmt: skip
    parents = {f"i{n}": "" for n in range(1, 6)}
    assert ids(plan_prune(records, parents, rule(keep_storage=250))) == ["k1", "k2"]
    assert ids(plan_prune(records, parents, rule(keep_storage=200))) == ["k1", "k2"]
    assert ids(plan_prune(records, parents, rule(keep_storage=400))) == []
    assert ids(plan_prune(records, parents, rule(keep_storage=1))) == ["k1", "k2", "k3", "k4"]


def test_keep_storage_takes_a_chain_leaf_first():
    plan = plan_prune(RECORDS, PARENTS, rule(keep_storage=100))  # unshared total 134
    assert ids(plan) == ["kb3", "kb2"] and plan.images == ("b3", "b2")


def test_delete_order_mixes_last_use_and_use_count_like_buildkit():
    a, b, c = step("a", "", 1, 10, count=9), step("b", "", 1, 20, count=1), step("c", "", 1, 0)
    # ranks: time a=1 b=2 c=0 (never used); count a=2 b=1 c=1 -> scores 1.5, 1.5, 0.5;
    # a tie goes to the older
    assert [r.id for r in delete_order([a, b, c])] == ["c", "a", "b"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"foo": ["x"]}, "failed to prune build cache: invalid filter 'foo'"),
        ({"mutable": ["true"]}, "failed to prune build cache: invalid filter 'mutable'"),
        ({"type": ["a", "b"]}, "failed to prune build cache: filters expect only one value"),
        ({"until": ["1h"], "unused-for": ["2h"]},
         'failed to prune build cache: conflicting filters: "until" and "unused-for"'),
        ({"until": ["soon"]},
         "failed to prune build cache: \"until\" filter expects a duration (e.g., '24h') or a "
         'timestamp: failed to parse value as time or duration: "soon"'),
        ({"inuse": ["maybe"]}, "failed to prune build cache: invalid filter 'inuse=[maybe]'"),
        ({"id": ["(unclosed"]}, "failed to prune build cache: failed to parse prune filters"),
    ],
)  # fmt: skip
def test_bad_filters_fail_as_dockerd_words_them(filters, message):
    with pytest.raises(InvalidParameter) as exc:
        parse_rule(filters, NOW)
    assert str(exc.value).startswith(message), str(exc.value)


def test_keep_storage_query_value():
    assert parse_keep_storage(None) == 0 and parse_keep_storage("1048576") == 1 << 20
    with pytest.raises(InvalidParameter) as exc:
        parse_keep_storage("1g")
    assert str(exc.value) == (
        'keep-storage is in bytes and expects an integer, got 1g: strconv.Atoi: parsing "1g": '
        "invalid syntax"
    )


@pytest.mark.parametrize(
    ("text", "ns"),
    [("10m", 600 * S), ("1h30m", 5400 * S), ("-1.5h", -5400 * S), ("300ms", S * 3 // 10),
     ("0", 0), ("1", None), ("1x", None), ("", None), ("h", None)],
)  # fmt: skip
def test_go_duration(text, ns):
    assert go_duration(text) == ns


def test_until_forms():
    now = NOW + 123_456_789  # a duration is taken from now in whole seconds, like GetTimestamp
    assert until_ns("10m", now) == NOW - 600 * S
    assert until_ns("1700000000.5", now) == NOW + S // 2
    assert until_ns("0", now) == 0
    assert until_ns("2023-11-14T22:13:20Z", now) == NOW
    assert until_ns("2023-11-14T23:13:20.25+01:00", now) == NOW + S // 4
    with pytest.raises(InvalidParameter, match="parsing time"):
        until_ns("2023-13-45", now)


def test_records_of_step_uses_and_mounts():
    images = [{"Id": "base", "ParentId": "", "RepoTags": ["busybox:latest"], "Size": 100},
              {"Id": "s1", "ParentId": "base", "RepoTags": [], "Size": 150},
              {"Id": "s2", "ParentId": "s1", "RepoTags": [], "Size": 170}]  # fmt: skip
    entries = [CacheEntry("k1", "s1", "base", "RUN a", S, 2 * S, 3),
               CacheEntry("k2", "s2", "s1", "RUN b", S, 3 * S, 1)]  # fmt: skip
    info = CacheMountInfo("pip", 4096, 5.0, "/root/.cache", 1.0, 2)
    records = records_of(step_uses(entries, images), [info], lambda i: i == "pip")
    assert records[1] == Record("k2", "regular", 20, False, False, 3 * S, 1, "RUN b",
                                ("k1",), "s2")  # fmt: skip
    assert records[2].type == "exec.cachemount" and records[2].in_use
    assert records[2].description == 'cached mount /root/.cache from exec with id "pip"'
    assert not matches(records[2], PruneRule())
