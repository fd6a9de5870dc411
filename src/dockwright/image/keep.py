"""Unpack a layer and keep the blob it came from, reading the stream once.

The stream is split in two: the layer store unpacks it in the calling thread while a second
thread writes the same bytes into the content store, which verifies digest and size before it
commits. Either side failing fails both, and neither leaves anything behind: the staged
directory is discarded and the blob never committed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dockwright.image.decompress import detect
from dockwright.image.layers import LayerStore, Staged
from dockwright.store.content import ContentStore, Descriptor

DEPTH = 16
MEDIA_BY_KIND = {
    "gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "plain": "application/vnd.docker.image.rootfs.diff.tar",
}


@dataclass(frozen=True)
class Kept:
    staged: Staged
    blob: Descriptor
    kind: str  # compression: gzip | zstd | bzip2 | xz | plain


class _End:
    pass


class _Failed(Exception):
    """The unpacking side failed; the blob writer gives up."""


class _Feed:
    """The blob writer's side of the queue; remembers whether it saw the end."""

    def __init__(self, q: queue.Queue[bytes | _End | BaseException]) -> None:
        self.q = q
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        while True:
            item = self.q.get()
            if isinstance(item, _End | BaseException):
                self.finished = True
                if isinstance(item, BaseException):
                    raise item
                return
            yield item

    def drain(self) -> None:
        """Keep the unpacker from blocking on a full queue after the writer gave up."""
        while not self.finished:
            self.finished = isinstance(self.q.get(), _End | BaseException)


class _Splitter:
    """Yields the source's chunks to the unpacker and queues each for the blob writer."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks
        self.q: queue.Queue[bytes | _End | BaseException] = queue.Queue(DEPTH)
        self.head = b""
        self.gen = self._run()

    def __iter__(self) -> Iterator[bytes]:
        return self.gen

    def _run(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if len(self.head) < 8:
                self.head += chunk[:8]
            self.q.put(chunk)
            yield chunk
        self.q.put(_End())


def stage_keeping_blob(layers: LayerStore, content: ContentStore, chunks: Iterable[bytes],
                       expected: str | None = None, size: int | None = None) -> Kept:  # fmt: skip
    """Stage the layer in `chunks` and commit its blob (checked against `expected`/`size`).

    Blocking. On any error the staged diff is discarded and the blob not committed.
    """
    split = _Splitter(chunks)
    result: list[Descriptor | BaseException] = []

    feed = _Feed(split.q)

    def write() -> None:
        try:
            result.append(content.ingest_stream(feed, expected, size))
        except BaseException as exc:
            result.append(exc)
            feed.drain()

    writer = threading.Thread(target=write, name="blob-writer", daemon=True)
    writer.start()
    staged = _stage(layers, split, writer)
    writer.join()
    if isinstance(result[0], BaseException):
        layers.discard(staged)
        raise result[0]
    return Kept(staged, result[0], detect(split.head))


def _stage(layers: LayerStore, split: _Splitter, writer: threading.Thread) -> Staged:
    try:
        staged = layers.stage(split)
        for _ in split.gen:  # a tar may end before its stream: the blob needs all of it
            pass
        return staged
    except BaseException:
        split.q.put(_Failed("layer unpacking failed"))
        writer.join()
        raise
