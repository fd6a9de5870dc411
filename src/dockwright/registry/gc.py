"""Online garbage collection: remove untagged manifests and unreferenced blobs while serving.

Three phases. *Collect* reads a snapshot of every repository (tags, manifest links with what
each manifest references, layer links) and every blob, in a worker thread. *Plan* (pure)
marks what is reachable: tagged manifests, their children (index entries), manifests whose
`subject` is kept (signatures, SBOMs), the blobs those reference, and anything younger than
`cutoff`; everything else is a candidate. *Sweep* runs on the event loop in one synchronous
step, so it never interleaves with a manifest PUT's check-then-write; it skips every
candidate a request used since the collection began (`RepoStore.touched`) or whose mtime is
now past the cutoff. A push racing the collection therefore either completes with all its
blobs kept, or (a blob removed before its manifest arrived) is refused with
MANIFEST_BLOB_UNKNOWN and can be retried; no stored manifest ever points at a missing blob.
The grace period protects multi-step pushes whose blobs wait for their manifest.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from dockwright.registry.core import Stores
from dockwright.registry.errors import RegistryError
from dockwright.registry.layout import Layout
from dockwright.registry.manifests import Manifest, parse_manifest

DEFAULT_GRACE = 600.0


@dataclass
class RepoSnapshot:
    tags: dict[str, str] = field(default_factory=dict)
    manifests: dict[str, tuple[Manifest, float]] = field(default_factory=dict)
    layers: dict[str, float] = field(default_factory=dict)


@dataclass
class Snapshot:
    repos: dict[str, RepoSnapshot]
    blobs: dict[str, float]


@dataclass
class Plan:
    """Candidates: (repo, digest) links to drop, referrer entries, and global blobs."""

    manifests: list[tuple[str, str, Manifest]] = field(default_factory=list)
    referrers: list[tuple[str, str, str]] = field(default_factory=list)
    layers: list[tuple[str, str]] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    manifests: int
    layers: int
    blobs: int
    bytes_freed: int


def _links(directory: Path) -> dict[str, float]:
    """{digest: mtime} of the link files under `<dir>/<alg>/<hex>`."""
    out: dict[str, float] = {}
    for alg in directory.iterdir() if directory.is_dir() else []:
        for link in alg.iterdir():
            try:
                out[f"{alg.name}:{link.name}"] = link.stat().st_mtime
            except FileNotFoundError:
                continue
    return out


def _repo_snapshot(stores: Stores, name: str) -> RepoSnapshot:
    layout = stores.layout
    snap = RepoSnapshot(layers=_links(layout.repo(name) / "_layers"))
    for tag in stores.repos.tags(name):
        try:
            snap.tags[tag] = layout.tag(name, tag).read_text()
        except FileNotFoundError:
            continue
    for digest, mtime in _links(layout.manifests_dir(name)).items():
        try:
            media_type = layout.manifest_link(name, digest).read_text()
            snap.manifests[digest] = (parse_manifest(stores.blobs.read(digest), media_type), mtime)
        except (FileNotFoundError, RegistryError):
            continue  # removed meanwhile, or unreadable: not reachable from here
    return snap


def collect(stores: Stores) -> Snapshot:
    """Read the whole registry (blocking; run in a worker thread)."""
    repos = {name: _repo_snapshot(stores, name) for name in stores.repos.catalog()}
    return Snapshot(repos, _links(stores.layout.blobs))


def _reachable(snap: RepoSnapshot, cutoff: float) -> set[str]:
    keep = {d for d in snap.tags.values() if d in snap.manifests}
    keep |= {d for d, (_, mtime) in snap.manifests.items() if mtime >= cutoff}
    while True:
        more = {c for d in keep for c in snap.manifests[d][0].manifests if c in snap.manifests}
        more |= {d for d, (m, _) in snap.manifests.items() if m.subject in keep}
        if more <= keep:
            return keep
        keep |= more


def plan(snapshot: Snapshot, cutoff: float) -> Plan:
    """What a collection may remove (pure); anything touched at or after `cutoff` is kept."""
    out = Plan()
    used: set[str] = set()
    for name, snap in snapshot.repos.items():
        keep = _reachable(snap, cutoff)
        blobs = {b for d in keep for b in snap.manifests[d][0].blobs}
        for digest, (m, _) in snap.manifests.items():
            if digest not in keep:
                out.manifests.append((name, digest, m))
                if m.subject:
                    out.referrers.append((name, m.subject, digest))
        for digest, mtime in snap.layers.items():
            if digest in blobs or mtime >= cutoff:
                used.add(digest)
            else:
                out.layers.append((name, digest))
        used |= keep | blobs
    out.blobs = [d for d, mtime in snapshot.blobs.items() if d not in used and mtime < cutoff]
    return out


def _old(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _spared(layout: Layout, p: Plan, cutoff: float, touched: set[str]) -> set[str]:
    """Digests to keep after all: used since the snapshot, and what such manifests reference."""
    spared = set(touched)
    while True:
        before = len(spared)
        for name, digest, m in p.manifests:
            if digest in spared or not _old(layout.manifest_link(name, digest), cutoff):
                spared |= {digest, *m.blobs, *m.manifests}
        if len(spared) == before:
            return spared


def sweep(stores: Stores, p: Plan, cutoff: float, touched: set[str]) -> Report:
    """Remove the plan's candidates that are still unused (synchronous, on the event loop)."""
    layout: Layout = stores.layout
    removed = [0, 0, 0, 0]
    spared = _spared(layout, p, cutoff, touched)
    for name, digest, _ in p.manifests:
        if digest not in spared:
            layout.manifest_link(name, digest).unlink(missing_ok=True)
            removed[0] += 1
    for name, subject, digest in p.referrers:
        if not layout.manifest_link(name, digest).exists():
            layout.referrer(name, subject, digest).unlink(missing_ok=True)
    for name, digest in p.layers:
        link = layout.layer_link(name, digest)
        if digest not in spared and _old(link, cutoff):
            link.unlink(missing_ok=True)
            removed[1] += 1
    for digest in p.blobs:
        path = layout.blob(digest)
        if digest not in spared and _old(path, cutoff):
            removed[3] += path.stat().st_size
            path.unlink()
            removed[2] += 1
    return Report(*removed)


async def collect_garbage(stores: Stores, grace: float = DEFAULT_GRACE) -> Report:
    """One online collection; requests keep being served throughout."""
    if stores.repos.touched is not None:
        raise RegistryError("UNSUPPORTED", "a garbage collection is already running")
    cutoff = time.time() - grace
    touched: set[str] = set()
    stores.repos.touched = touched
    try:
        snapshot = await asyncio.to_thread(collect, stores)
        return sweep(stores, plan(snapshot, cutoff), cutoff, touched)
    finally:
        stores.repos.touched = None


def drop_stale_uploads(stores: Stores, max_age: float) -> int:
    """Remove upload sessions untouched for `max_age` seconds; returns how many."""
    cutoff, dropped = time.time() - max_age, 0
    for session in stores.layout.uploads.iterdir():
        if _old(session / "data", cutoff):
            stores.uploads.cancel((session / "repo").read_text(), session.name)
            dropped += 1
    return dropped


__all__ = ["Report", "collect_garbage", "drop_stale_uploads", "plan"]
