"""Make a layer from a directory by moving it into the layer store (a build step's upper dir).

`stage_dir` is what `keep.stage_keeping_blob(layers, content, tar_diff(src, clamp))` does for a
directory — the same blob, diff_id and size, and on disk the diff `extract.py` would have made
from that tar — without unpacking the tar again: the directory is renamed into a staging
directory of the layer store, tarred once into the content store (the blob's digest is the
diff_id: the tar is uncompressed), and brought into the form extraction gives, in the same walk:

- mtimes (and atimes) are the tar's: whole seconds, at most `clamp`; directories last (a
  whiteout gets its tar time too, where extraction leaves the time of the mknod: so the layer
  tars again to the same bytes, which `save` and `push` rely on when the blob is gone);
- overlayfs' own xattrs (origin, impure, …) are removed, except `opaque=y`, which extraction
  sets from the tar's opaque marker; sockets (never in a tar) are removed;
- the root keeps mode 0755 (the tar has no entry for it).

A tree with names extraction would reinterpret (``.wh.*`` files an upper dir never holds but a
directory might) takes the old path: its tar is unpacked into a fresh staging directory.
Nobody may use the source any more (an upper dir after its overlay is unmounted); it is gone
afterwards, whatever happens — unless it is on another filesystem than the layer store: then it
is tarred and the tar extracted, as before, and the caller removes it.

`stage_dir_spooled` is the same with the blob left for later: the tar goes to a file of its
own (hashed, not synced) and `Spooled.ingest` puts it into the content store (verified and
fsynced there) when the caller likes, e.g. behind a build (engine/builds/blobqueue.py).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dockwright.image.fstree import is_whiteout
from dockwright.image.keep import Kept, stage_keeping_blob
from dockwright.image.layers import LayerStore, Staged
from dockwright.image.safefs import remove_tree
from dockwright.image.tardiff import tar_diff
from dockwright.image.tarplan import OPAQUE_XATTR, WHITEOUT_PREFIX
from dockwright.store.content import ContentStore, Descriptor, write_hashed

_OVERLAY_XATTRS = "trusted.overlay."
ROOT_MODE = 0o755
SPOOL_NAME = "layer.tar"
READ_CHUNK = 1 << 20
Sink = Callable[[Iterable[bytes]], Descriptor]  # writes a tar stream, says what it wrote


class _Reinterpreted(Exception):
    """The tree holds a name extraction would turn into something else."""


@dataclass
class _Normalizer:
    """Visits every entry as `tar_diff` writes it; fixes what extraction would make differently."""

    root: Path
    clamp: int | None
    size: int = 0
    seen: set[int] = field(default_factory=set)
    dirs: list[tuple[str, int]] = field(default_factory=list)

    def visit(self, rel: str, st: os.stat_result) -> None:
        if rel.rpartition("/")[2].startswith(WHITEOUT_PREFIX):
            raise _Reinterpreted(rel)
        path = self.root / rel.lstrip("/")
        mode = st.st_mode
        if stat.S_ISSOCK(mode):
            os.unlink(path)
            return
        mtime = self.mtime(st)
        if not is_whiteout(st):  # overlayfs keeps no xattrs on whiteouts
            _strip_overlay_xattrs(path)
        if stat.S_ISDIR(mode):
            self.dirs.append((rel, mtime))
            return
        self.count(st)
        if st.st_mtime_ns != mtime or st.st_atime_ns != mtime:
            os.utime(path, ns=(mtime, mtime), follow_symlinks=False)

    def mtime(self, st: os.stat_result) -> int:
        """The mtime in ns extraction gives: the tar's whole seconds, clamped."""
        seconds = int(st.st_mtime)
        if self.clamp is not None:
            seconds = min(seconds, self.clamp)
        return seconds * 1_000_000_000

    def count(self, st: os.stat_result) -> None:
        """`fstree.tree_size`: bytes of the files, hardlinks once."""
        if st.st_size and st.st_ino not in self.seen:
            self.seen.add(st.st_ino)
            self.size += st.st_size

    def finish(self) -> None:
        """Directory times once nothing is written into them any more (deepest first)."""
        for rel, mtime in reversed(self.dirs):
            os.utime(self.root / rel.lstrip("/"), ns=(mtime, mtime), follow_symlinks=False)
        _strip_overlay_xattrs(self.root)
        os.chmod(self.root, ROOT_MODE)


def _strip_overlay_xattrs(path: Path) -> None:
    """Remove overlayfs' bookkeeping xattrs (keep `opaque=y`, which the tar carries)."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return
    for name in names:
        if not name.startswith(_OVERLAY_XATTRS):
            continue
        if name == OPAQUE_XATTR and os.getxattr(path, name, follow_symlinks=False) == b"y":
            continue
        os.removexattr(path, name, follow_symlinks=False)


def stage_dir(layers: LayerStore, content: ContentStore, src: Path,
              clamp: int | None = None) -> Kept:  # fmt: skip
    """Move `src` into the layer store as a staged diff and commit its tar as a blob.

    Blocking. The caller commits the result (`layers.commit`) or discards it; on error
    nothing is left: neither `src`, nor a staging directory, nor the blob.
    """
    return _stage(layers, content, src, clamp, content.ingest_stream)


@dataclass(frozen=True)
class Spooled:
    """A staged diff whose blob waits in `tar` (None: already in the content store)."""

    kept: Kept
    tar: Path | None

    def ingest(self, content: ContentStore) -> Descriptor:
        """Blocking: the spooled tar into the content store (checked against the digest and
        size it was spooled with); its file goes, whatever happens."""
        if self.tar is None:
            return self.kept.blob
        try:
            if content.has(self.kept.blob.digest):
                return self.kept.blob
            with self.tar.open("rb") as f:
                chunks = iter(lambda: f.read(READ_CHUNK), b"")
                return content.ingest_stream(chunks, self.kept.blob.digest, self.kept.blob.size)
        finally:
            remove_tree(self.tar.parent)

    def discard(self) -> None:
        """The spooled tar is not wanted after all."""
        if self.tar is not None:
            remove_tree(self.tar.parent)


def stage_dir_spooled(layers: LayerStore, content: ContentStore, src: Path,
                      clamp: int | None = None) -> Spooled:  # fmt: skip
    """`stage_dir` without the content store's fsync on the way: the tar is spooled to a
    staging directory of its own (swept by `LayerStore.recover` after a crash) for
    `Spooled.ingest`. Directories `stage_dir` could not rename fall back to it (tar None)."""
    spool_dir, _ = layers.reserve()
    tar = spool_dir / SPOOL_NAME
    spooled: list[Descriptor] = []

    def sink(chunks: Iterable[bytes]) -> Descriptor:
        spooled.append(write_hashed(tar, chunks, sync=False))
        return spooled[-1]

    try:
        kept = _stage(layers, content, src, clamp, sink)
    except BaseException:
        remove_tree(spool_dir)
        raise
    if not spooled:  # a fallback path put the blob into the content store itself
        remove_tree(spool_dir)
        return Spooled(kept, None)
    return Spooled(kept, tar)


def _stage(layers: LayerStore, content: ContentStore, src: Path, clamp: int | None,
           sink: Sink) -> Kept:  # fmt: skip
    tmp, dir_id = layers.reserve()
    diff = tmp / "diff"
    try:
        os.rename(src, diff)
    except OSError as exc:
        remove_tree(tmp)
        if exc.errno != errno.EXDEV:
            raise
        return stage_keeping_blob(layers, content, tar_diff(src, clamp))  # another filesystem
    try:
        return _tar_and_fix(sink, tmp, dir_id, clamp)
    except _Reinterpreted:
        return _by_extraction(layers, content, tmp, clamp)
    except BaseException:
        remove_tree(tmp)
        raise


def _tar_and_fix(sink: Sink, tmp: Path, dir_id: str, clamp: int | None) -> Kept:
    """One walk: the tar into `sink`, the tree into extracted form."""
    fix = _Normalizer(tmp / "diff", clamp)
    blob = sink(tar_diff(fix.root, clamp, visit=fix.visit))
    fix.finish()
    return Kept(Staged(tmp, dir_id, blob.digest, fix.size), blob, "plain")


def _by_extraction(layers: LayerStore, content: ContentStore, tmp: Path,
                   clamp: int | None) -> Kept:  # fmt: skip
    """The old path, for trees `_Normalizer` cannot vouch for."""
    try:
        return stage_keeping_blob(layers, content, tar_diff(tmp / "diff", clamp))
    finally:
        remove_tree(tmp)
