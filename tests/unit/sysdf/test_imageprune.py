"""The image prune planner: which images go, by which names, under which filters."""

from __future__ import annotations

import pytest

from dockwright.engine.imageprune import Candidate, dangling_only, plan_prune
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit


def img(ident: str, tags: tuple[str, ...] = (), digests: tuple[str, ...] = (),
        children: bool = False, created: float = 100.0, **labels: str) -> Candidate:  # fmt: skip
    return Candidate(ident, tags, digests, children, created, dict(labels))


IMAGES = [
    img("sha256:dang"),
    img("sha256:parent", children=True),
    img("sha256:tagged", ("app:1",)),
    img("sha256:digested", (), ("app@sha256:aa",)),
    img("sha256:both", ("web:1", "web:2")),
]


def test_default_prunes_dangling_and_digest_only_images_by_id_or_digest() -> None:
    assert plan_prune(IMAGES, {}) == [["sha256:dang"], ["app@sha256:aa"]]


def test_dangling_false_prunes_every_image_by_each_reference() -> None:
    plan = plan_prune(IMAGES, {"dangling": ["false"]})
    assert plan == [["sha256:dang"], ["app:1"], ["app@sha256:aa"], ["web:1", "web:2"]]


def test_untagged_parent_is_never_a_candidate_tagged_parent_only_with_all() -> None:
    parent = img("sha256:p", ("base:1",), children=True)
    assert plan_prune([parent], {}) == []
    assert plan_prune([parent], {"dangling": ["0"]}) == [["base:1"]]


def test_until_keeps_newer_images() -> None:
    old, new = img("sha256:old", created=100.0), img("sha256:new", created=300.0)
    assert plan_prune([old, new], {"until": ["200"]}) == [["sha256:old"]]


def test_label_filters() -> None:
    a = img("sha256:a", keep="yes", team="x")
    b = img("sha256:b", team="x")
    assert plan_prune([a, b], {"label": ["keep=yes"]}) == [["sha256:a"]]
    assert plan_prune([a, b], {"label": ["team"]}) == [["sha256:a"], ["sha256:b"]]
    assert plan_prune([a, b], {"label!": ["keep"]}) == [["sha256:b"]]
    # label! excludes only when every value matches (Docker's MatchKVList)
    assert plan_prune([a, b], {"label!": ["keep", "team=x"]}) == [["sha256:b"]]
    assert plan_prune([a, b], {"label!": ["keep", "team=y"]}) == [["sha256:a"], ["sha256:b"]]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"reference": ["x"]}, "invalid filter 'reference'"),
        ({"dangling": ["maybe"]}, "invalid filter 'dangling=maybe'"),
        ({"until": ["1", "2"]}, "more than one until filter specified"),
    ],
)
def test_bad_filters(filters: dict[str, list[str]], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        plan_prune(IMAGES, filters)


def test_dangling_only_values() -> None:
    assert dangling_only({}) is True
    assert dangling_only({"dangling": ["true"]}) is True
    assert dangling_only({"dangling": ["FALSE"]}) is False
