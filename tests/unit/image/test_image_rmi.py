"""`docker rmi` decisions, on an in-memory image graph (pure)."""

from __future__ import annotations

import pytest

from dockwright.errors import Conflict
from dockwright.image.reference import parse_normalized
from dockwright.image.rmi import Delete, ImageGraph, Untag, is_single_reference, plan_delete

pytestmark = pytest.mark.unit

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
CID = "3b2e" + "0" * 60
DIG = "sha256:" + "d" * 64


def r(text):
    return parse_normalized(text).with_default_tag()


def graph(refs=None, parents=None, users=None):
    refs = refs or {}
    ids = set(refs) | set(parents or {}) | {A}
    return ImageGraph({i: [r(t) for t in refs.get(i, [])] for i in ids},
                      {i: (parents or {}).get(i, "") for i in ids}, users or {})  # fmt: skip


def records(steps):
    return [
        {"Untagged": s.ref.familiar()} if isinstance(s, Untag) else {"Deleted": s.image_id}
        for s in steps
    ]


def test_by_name_with_one_tag_untags_and_deletes():
    g = graph({A: ["busybox:latest"]})
    assert records(plan_delete(g, A, "busybox")) == [{"Untagged": "busybox:latest"}, {"Deleted": A}]


def test_by_name_with_other_tags_only_untags():
    g = graph({A: ["busybox:latest", "mine:1"]})
    assert records(plan_delete(g, A, "mine:1")) == [{"Untagged": "mine:1"}]


def test_by_id_with_tags_of_several_repositories_needs_force():
    g = graph({A: ["busybox:latest", "mine:1"]})
    with pytest.raises(Conflict) as err:
        plan_delete(g, A, "aaaa")
    assert str(err.value) == ("conflict: unable to delete aaaaaaaaaaaa (must be forced) - "
                              "image is referenced in multiple repositories")  # fmt: skip
    assert records(plan_delete(g, A, "aaaa", force=True)) == [
        {"Untagged": "busybox:latest"}, {"Untagged": "mine:1"}, {"Deleted": A}]  # fmt: skip


def test_by_id_with_one_repository_untags_everything():
    g = graph({A: ["busybox:latest"]})
    assert records(plan_delete(g, A, A)) == [{"Untagged": "busybox:latest"}, {"Deleted": A}]


def test_name_used_by_a_container_must_be_forced():
    g = graph({A: ["busybox:latest"]}, users={A: [(CID, False)]})
    with pytest.raises(Conflict) as err:
        plan_delete(g, A, "busybox")
    assert str(err.value) == (
        'conflict: unable to remove repository reference "busybox" (must force) - '
        "container 3b2e00000000 is using its referenced image aaaaaaaaaaaa"
    )


def test_forced_name_removal_of_image_used_by_stopped_container_deletes_it():
    g = graph({A: ["busybox:latest"]}, users={A: [(CID, False)]})
    assert records(plan_delete(g, A, "busybox", force=True)) == [
        {"Untagged": "busybox:latest"},
        {"Deleted": A},
    ]


def test_running_container_keeps_the_image_even_when_forced():
    g = graph({A: ["busybox:latest"]}, users={A: [(CID, True)]})
    # by name: the tag goes, the image stays (quietly)
    assert records(plan_delete(g, A, "busybox", force=True)) == [{"Untagged": "busybox:latest"}]
    with pytest.raises(Conflict) as err:
        plan_delete(g, A, "aaaa", force=True)
    assert str(err.value) == ("conflict: unable to delete aaaaaaaaaaaa (cannot be forced) - "
                              "image is being used by running container 3b2e00000000")  # fmt: skip


def test_stopped_container_blocks_delete_by_id_without_force():
    g = graph({}, users={A: [(CID, False)]})
    with pytest.raises(
        Conflict,
        match=r"\(must be forced\) - image is being used by stopped container 3b2e00000000",
    ):
        plan_delete(g, A, A)
    assert records(plan_delete(g, A, A, force=True)) == [{"Deleted": A}]


def test_child_image_is_a_hard_conflict():
    g = graph({B: ["child:1"]}, parents={B: A})
    with pytest.raises(Conflict, match=r"\(cannot be forced\) - image has dependent child images"):
        plan_delete(g, A, A, force=True)


def test_prune_removes_untagged_parents_unless_noprune():
    g = graph({B: ["child:1"]}, parents={B: A})
    assert plan_delete(g, B, "child:1") == [Untag(r("child:1"), B), Delete(B), Delete(A)]
    assert plan_delete(g, B, "child:1", prune=False) == [Untag(r("child:1"), B), Delete(B)]
    tagged_parent = graph({B: ["child:1"], A: ["base:1"]}, parents={B: A})
    assert plan_delete(tagged_parent, B, "child:1") == [Untag(r("child:1"), B), Delete(B)]


def test_removing_last_tag_of_a_repository_drops_its_digest_refs():
    g = graph({A: ["busybox:latest"]})
    g.refs[A].append(parse_normalized(f"busybox@{DIG}"))
    g.refs[A].append(r("other:1"))
    assert records(plan_delete(g, A, "busybox")) == [
        {"Untagged": "busybox:latest"}, {"Untagged": f"busybox@{DIG}"}]  # fmt: skip


def test_planner_does_not_change_the_graph():
    g = graph({A: ["busybox:latest"]})
    plan_delete(g, A, "busybox")
    assert g.refs[A] == [r("busybox:latest")]


def test_single_reference_rule():
    assert not is_single_reference([])
    assert is_single_reference([r("a")])
    assert not is_single_reference([r("a"), r("a:2")])
    assert is_single_reference([r("a"), parse_normalized(f"a@{DIG}")])
    assert not is_single_reference([r("a"), parse_normalized(f"b@{DIG}")])
