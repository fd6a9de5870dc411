"""`docker rmi` semantics as a pure planner: which references to drop, which images to delete.

Given a snapshot of the image graph (references, parents, containers using each image) the
planner reproduces dockerd's ImageDelete decision by decision:

- by *name*: the reference is removed (refused without force when it is the image's only
  repository and a container uses the image); the image is deleted only if no reference is left
  and nothing (quietly) stands in the way.
- by *id*: if all references are one repository's, they go too; then the image is deleted.
- conflicts: *hard* (a child image, a running container) can never be forced; *soft* (other
  references, a stopped container) give way to `force`.
- `prune`: untagged parents that nothing uses are deleted after their child, quietly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockwright.errors import Conflict
from dockwright.image.reference import Reference, parse_normalized

DEPENDENT_CHILD = 1
RUNNING_CONTAINER = 2
ACTIVE_REFERENCE = 4
STOPPED_CONTAINER = 8
HARD = DEPENDENT_CHILD | RUNNING_CONTAINER
SOFT = ACTIVE_REFERENCE | STOPPED_CONTAINER


@dataclass(frozen=True)
class Untag:
    ref: Reference
    image_id: str


@dataclass(frozen=True)
class Delete:
    image_id: str


Step = Untag | Delete


@dataclass
class ImageGraph:
    """What rmi looks at. `users`: image id → [(container id, running)]."""

    refs: dict[str, list[Reference]]
    parents: dict[str, str]
    users: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)

    def children(self, image_id: str) -> list[str]:
        return [i for i, parent in self.parents.items() if parent == image_id]

    def dangling(self, image_id: str) -> bool:
        return not self.refs.get(image_id) and not self.children(image_id)

    def drop_ref(self, image_id: str, ref: Reference) -> None:
        self.refs[image_id] = [r for r in self.refs.get(image_id, []) if r != ref]

    def drop_image(self, image_id: str) -> None:
        self.refs.pop(image_id, None)
        self.parents.pop(image_id, None)


@dataclass(frozen=True)
class _Conflict:
    message: str
    hard: bool
    used: bool


def short_id(image_id: str) -> str:
    """Docker's TruncateID: the hex without algorithm, 12 characters."""
    return image_id.partition(":")[2][:12] if ":" in image_id else image_id[:12]


def is_id_prefix(image_id: str, query: str) -> bool:
    return image_id.startswith(query) or image_id.partition(":")[2].startswith(query)


def is_single_reference(refs: list[Reference]) -> bool:
    """All references are of one repository with at most one tag (False when there are none)."""
    if len(refs) <= 1:
        return len(refs) == 1
    tags = [r for r in refs if r.digest is None]
    if len(tags) > 1:
        return False
    digest_names = {r.name for r in refs if r.digest is not None}
    single = tags[0] if tags else refs[0]
    return digest_names == {single.name}


def _check(g: ImageGraph, image_id: str, mask: int) -> _Conflict | None:
    users = g.users.get(image_id, [])
    if mask & DEPENDENT_CHILD and g.children(image_id):
        return _Conflict("image has dependent child images", True, False)
    running = [cid for cid, up in users if up]
    if mask & RUNNING_CONTAINER and running:
        return _Conflict(
            f"image is being used by running container {short_id(running[0])}", True, True
        )
    if mask & ACTIVE_REFERENCE and g.refs.get(image_id):
        return _Conflict("image is referenced in multiple repositories", False, False)
    stopped = [cid for cid, up in users if not up]
    if mask & STOPPED_CONTAINER and stopped:
        return _Conflict(
            f"image is being used by stopped container {short_id(stopped[0])}", False, True
        )
    return None


def _error(image_id: str, c: _Conflict) -> Conflict:
    how = "cannot be forced" if c.hard else "must be forced"
    return Conflict(f"conflict: unable to delete {short_id(image_id)} ({how}) - {c.message}")


def _untag_all(g: ImageGraph, image_id: str, steps: list[Step]) -> None:
    for ref in list(g.refs.get(image_id, [])):
        steps.append(Untag(ref, image_id))
        g.drop_ref(image_id, ref)


def _delete(g: ImageGraph, image_id: str, steps: list[Step], force: bool, prune: bool,
            quiet: bool) -> None:  # fmt: skip
    """dockerd's imageDeleteHelper."""
    conflict = _check(g, image_id, HARD if force else HARD | SOFT)
    if conflict is not None:
        if quiet and (not g.dangling(image_id) or conflict.used):
            return
        raise _error(image_id, conflict)
    parent = g.parents.get(image_id, "")
    _untag_all(g, image_id, steps)
    steps.append(Delete(image_id))
    g.drop_image(image_id)
    if prune and parent:
        _delete(g, parent, steps, False, True, True)


def _by_name(g: ImageGraph, image_id: str, query: str, force: bool) -> tuple[list[Step], bool]:
    """Remove the named reference; (steps, whether the image should now go too)."""
    refs = g.refs.get(image_id, [])
    if not force and is_single_reference(refs) and g.users.get(image_id):
        cid = g.users[image_id][0][0]
        raise Conflict(
            f'conflict: unable to remove repository reference "{query}" (must force) - '
            f"container {short_id(cid)} is using its referenced image {short_id(image_id)}"
        )
    ref = parse_normalized(query).with_default_tag()
    steps: list[Step] = [Untag(ref, image_id)]
    g.drop_ref(image_id, ref)
    remaining = g.refs.get(image_id, [])
    same_repo_tag = any(r.digest is None and r.name == ref.name for r in remaining)
    if ref.digest is None and not same_repo_tag:
        for r in remaining:
            if r.digest is not None and r.name == ref.name:
                steps.append(Untag(r, image_id))
                g.drop_ref(image_id, r)
    return steps, not g.refs.get(image_id)


def plan_delete(
    graph: ImageGraph, image_id: str, query: str, force: bool = False, prune: bool = True
) -> list[Step]:
    """The steps `docker rmi [--force] [--no-prune] <query>` takes; Conflict when refused.

    `image_id` is what `query` resolved to. The graph is copied, not changed.
    """
    g = ImageGraph({k: list(v) for k, v in graph.refs.items()}, dict(graph.parents), graph.users)
    if not is_id_prefix(image_id, query):
        steps, delete_image = _by_name(g, image_id, query, force)
        if delete_image:
            _delete(g, image_id, steps, force, prune, quiet=True)
        return steps
    steps = []
    if is_single_reference(g.refs.get(image_id, [])):
        conflict = _check(g, image_id, HARD if force else HARD | STOPPED_CONTAINER)
        if conflict is not None:
            raise _error(image_id, conflict)
        _untag_all(g, image_id, steps)
    _delete(g, image_id, steps, force, prune, quiet=False)
    return steps
