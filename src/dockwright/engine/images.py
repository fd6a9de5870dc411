"""The image service: what the API (and the containers service) asks of images.

It composes the content store, the layer store, the image store and the snapshotter under one
data root, publishes image events, and shapes Docker's JSON (`ImageSummary`, `ImageInspect`,
history items, delete records) from the typed records. Blocking work (unpacking, deleting
directories) runs in worker threads; metadata calls are short and run on the event loop.
"""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dockwright.distribution.service import Distribution
from dockwright.distribution.stores import Stores
from dockwright.engine import imageprune
from dockwright.errors import Conflict, InvalidParameter, NotFound, NotImplementedYet
from dockwright.image import config as cfg
from dockwright.image.commit import commit_image
from dockwright.image.layers import LayerStore
from dockwright.image.reference import Reference, parse_normalized
from dockwright.image.snapshot import Snapshotter
from dockwright.image.store import ImageRecord, ImageStore
from dockwright.store.content import ContentStore
from dockwright.store.db import Database
from dockwright.types.container import RUNNING, Container

IMAGE_FILTERS = ("before", "dangling", "label", "reference", "since")
Usage = dict[str, list[tuple[str, bool]]]  # image id → [(container id, running)]

# container.Config as dockerd 26 serialises it in an image inspect (fields without omitempty)
_CONFIG_DEFAULTS: dict[str, Any] = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
    "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
    "OnBuild": None, "Labels": None,
}  # fmt: skip


class EventSink(Protocol):
    def publish(
        self, kind: str, action: str, actor_id: str, attributes: dict[str, str]
    ) -> None: ...


class CommitPort(Protocol):
    """What `commit` needs of the containers service (the engine sets `ImageService.containers`)."""

    def get(self, ref: str) -> Container: ...

    async def pause(self, ref: str) -> None: ...

    async def unpause(self, ref: str) -> None: ...


@dataclass(frozen=True)
class ImageUsage:
    """Disk use for `system df`: all layers once, and per image its size and shared part."""

    layers_size: int
    image_sizes: dict[str, int]
    shared_sizes: dict[str, int]


class ImageService:
    """Images under `data_root`; `images_in_use` is set by the engine once containers exist."""

    def __init__(
        self,
        data_root: Path,
        db: Database,
        events: EventSink,
        images_in_use: Callable[[], Usage] | None = None,
        *,
        insecure_registries: tuple[str, ...] = (),
        registry_mirrors: tuple[str, ...] = (),
        max_concurrent_transfers: int = 3,
    ) -> None:
        self.content = ContentStore(data_root / "content")
        self.layers = LayerStore(db, data_root / "layers")
        self.store = ImageStore(db, self.content, self.layers)
        self.snapshots = Snapshotter(db, data_root / "containers", self.layers, self.store)
        self.events = events
        self.images_in_use: Callable[[], Usage] = images_in_use or dict
        self.distribution = Distribution(
            Stores(self.content, self.layers, self.store),
            insecure_registries, registry_mirrors, max_concurrent_transfers,
        )  # fmt: skip
        self.containers: CommitPort | None = None

    def recover(self) -> None:
        """At daemon start, before serving: drop interrupted writes and unreferenced layers."""
        self.content.recover()
        self.layers.recover()
        self.store.blobs.prune()

    # -- for the containers service (ImagesPort) -------------------------------------------

    def resolve(self, name: str) -> tuple[str, dict[str, Any]]:
        """(image id, the OCI `config` section) for a name or id; NotFound "No such image: …"."""
        image_id = self.store.resolve(name)
        return image_id, dict(self.image_config(image_id).get("config") or {})

    def image_config(self, image_id: str) -> dict[str, Any]:
        """The whole OCI image config JSON of an image."""
        return self.store.config(image_id)

    def image_size(self, image_id: str) -> int:
        """Bytes of the image's layers (0 when the image is gone)."""
        return self.store.get(image_id).size if self.store.exists(image_id) else 0

    def display_name(self, image_id: str) -> str:
        """The image's first tag (familiar form), else its id."""
        tags = self.store.get(image_id).tags if self.store.exists(image_id) else []
        return tags[0].familiar() if tags else image_id

    # -- list / inspect / history ----------------------------------------------------------

    def list(self, all: bool = False, filters: dict[str, list[str]] | None = None,
             shared_size: bool = False) -> list[dict[str, Any]]:  # fmt: skip
        """Docker's ImageSummary list, newest first."""
        filters = filters or {}
        check_filters(filters)
        match = _Matcher(filters, self.store)
        shared = self.usage().shared_sizes if shared_size else {}
        out = []
        for rec in self.store.all():
            labels = self.image_config(rec.id).get("config", {}).get("Labels") or {}
            tags, digests = match.refs(rec)
            if not match.keep(rec, labels, tags, digests, show_all=all):
                continue
            out.append(_summary(rec, tags, digests, labels, shared.get(rec.id, -1)))
        return out

    def inspect(self, name: str) -> dict[str, Any]:
        """Docker's ImageInspect for a name or id."""
        rec = self.store.get(self.store.resolve(name))
        config = self.image_config(rec.id)
        return {
            "Id": rec.id,
            "RepoTags": [r.familiar() for r in rec.tags],
            "RepoDigests": [r.familiar() for r in rec.digests],
            "Parent": rec.parent,
            "Comment": config.get("comment", ""),
            "Created": cfg.format_time(rec.created_ns) if rec.created_ns else "",
            "DockerVersion": config.get("docker_version", ""),
            "Author": config.get("author", ""),
            "Config": {**_CONFIG_DEFAULTS, **(config.get("config") or {})},
            "Architecture": config.get("architecture", ""),
            **({"Variant": config["variant"]} if config.get("variant") else {}),
            "Os": config.get("os", ""),
            "Size": rec.size,
            "GraphDriver": {"Name": "overlay2", "Data": self._graph_data(rec)},
            "RootFS": {"Type": "layers", "Layers": cfg.diff_ids(config)},
            "Metadata": {"LastTagTime": cfg.format_time(rec.last_tag_ns)},
        }

    def _graph_data(self, rec: ImageRecord) -> dict[str, str]:
        layers = self.layers.chain(rec.top_layer)
        if not layers:
            return {}
        top = layers[0].path.parent
        data = {"MergedDir": str(top / "merged"), "UpperDir": str(layers[0].path),
                "WorkDir": str(top / "work")}  # fmt: skip
        if len(layers) > 1:
            data["LowerDir"] = ":".join(str(layer.path) for layer in layers[1:])
        return data

    def history(self, name: str) -> builtins.list[dict[str, Any]]:
        """`GET /images/{name}/history`: newest first."""
        return [
            {
                "Id": h.image_id,
                "Created": h.created_ns // 1_000_000_000,
                "CreatedBy": h.created_by,
                "Tags": list(h.tags),
                "Size": h.size,
                "Comment": h.comment,
            }
            for h in self.store.history(self.store.resolve(name))
        ]

    # -- tag / remove / import -------------------------------------------------------------

    def tag(self, name: str, repo: str | None, tag: str | None) -> None:
        """`docker tag`: point repo[:tag] at the image `name` resolves to."""
        ref = repo_tag_reference(repo, tag)
        if ref is None:
            raise InvalidParameter("repository name must have at least one component")
        if ref.familiar_name == "sha256":
            raise InvalidParameter(
                "refusing to create an ambiguous tag using digest algorithm as name"
            )
        image_id = self.store.resolve(name)
        self.store.tag(image_id, ref)
        self._publish("tag", image_id, ref.familiar())

    async def remove(
        self, name: str, force: bool = False, noprune: bool = False
    ) -> builtins.list[dict[str, str]]:
        """`docker rmi`: Docker's records; Conflict with Docker's texts when refused."""
        result = self.store.delete(name, self.images_in_use(), force, prune=not noprune)
        for image_id in result.untagged:
            self._publish("untag", image_id, image_id)
        for image_id in result.deleted:
            self._publish("delete", image_id, image_id, labels=False)
        await asyncio.to_thread(self.layers.sweep)
        return result.records

    async def prune(self, filters: dict[str, builtins.list[str]]) -> dict[str, Any]:
        """`POST /images/prune`: Docker's ImagesPruneReport; images in use are skipped quietly."""
        plan = imageprune.plan_prune(self._prune_candidates(), filters)
        sizes = self.layers.usage()
        records: builtins.list[dict[str, str]] = []
        for names in plan:
            for name in names:
                try:
                    records += await self.remove(name)
                except (Conflict, NotFound):
                    continue
        reclaimed = sum(sizes.get(r.get("Deleted", ""), 0) for r in records)
        self.events.publish("image", "prune", "", {"reclaimed": str(reclaimed)})
        return {"ImagesDeleted": records or None, "SpaceReclaimed": reclaimed}

    def _prune_candidates(self) -> builtins.list[imageprune.Candidate]:
        return [
            imageprune.Candidate(
                rec.id,
                tuple(r.familiar() for r in rec.tags),
                tuple(r.familiar() for r in rec.digests),
                bool(self.store.children(rec.id)),
                rec.created_ns / 1e9,
                dict(self.image_config(rec.id).get("config", {}).get("Labels") or {}),
            )
            for rec in self.store.all()
        ]

    async def import_image(self, chunks: AsyncIterable[bytes], repo: str | None = None,
                           tag: str | None = None, changes: builtins.list[str] | None = None,
                           message: str = "", source: str = "-") -> str:  # fmt: skip
        """`POST /images/create?fromSrc=-`: unpack the body as it arrives; returns the image id."""
        if source != "-":
            raise NotImplementedYet(f"importing from {source!r} is not supported: use fromSrc=-")
        ref = repo_tag_reference(repo, tag, importing=True)
        image_id = await self.store.import_rootfs_async(
            chunks, str(ref) if ref else None, changes or [], message
        )
        if ref is not None:
            self._publish("tag", image_id, ref.familiar())
        self._publish("import", image_id, image_id)
        return image_id

    # -- registries ------------------------------------------------------------------------

    def pull(self, image: str, tag: str | None = None, platform: str | None = None,
             auth: str | None = None) -> AsyncGenerator[dict[str, Any], None]:  # fmt: skip
        """`docker pull`: progress messages; errors before the first one mean nothing started."""
        return self.distribution.pull(image, tag, platform, auth, self._transferred("pull"))

    def push(self, name: str, tag: str | None = None,
             auth: str | None = None) -> AsyncGenerator[dict[str, Any], None]:  # fmt: skip
        """`docker push`: progress messages, the last one with the manifest digest."""
        return self.distribution.push(name, tag, auth, self._transferred("push"))

    async def login(self, body: object) -> dict[str, str]:
        """`docker login`: {"Status": "Login Succeeded", …} or Unauthorized."""
        return await self.distribution.login(body)

    def save(self, names: builtins.list[str]) -> AsyncGenerator[bytes, None]:
        """`docker save`: the archive as chunks (errors before the first one)."""
        return self.distribution.save(names)

    async def load(self, chunks: AsyncIterable[bytes]) -> builtins.list[str]:
        """`docker load`: loads every image of the archive; docker's "Loaded image" lines."""
        lines = await self.distribution.load(chunks)
        for line in lines:
            for part in line.splitlines():
                name = part.split(": ", 1)[-1]
                self.events.publish("image", "load", name, {"name": name})
        return lines

    async def commit(self, container: str, repo: str | None = None, tag: str | None = None,
                     comment: str = "", author: str = "",
                     changes: builtins.list[str] | None = None, pause: bool = True) -> str:  # fmt: skip
        """`docker commit`: the container's changes as a new image (paused meanwhile)."""
        if self.containers is None:
            raise NotImplementedYet("commit is not wired: the engine did not set containers")
        ref = repo_tag_reference(repo, tag)
        c = self.containers.get(container)
        paused = pause and c.state.status == RUNNING
        if paused:
            await self.containers.pause(c.id)
        try:
            image_id = await asyncio.to_thread(
                commit_image, self.store, c.image_id, self.snapshots.upper_dir(c.id), c.config,
                c.id, changes or [], comment, author,
            )  # fmt: skip
        finally:
            if paused:
                await self.containers.unpause(c.id)
        if ref is not None:
            self.store.tag(image_id, ref)
        attrs = {"comment": comment, "imageID": image_id, "imageRef": str(ref or "")}
        self.events.publish("container", "commit", c.id, attrs)
        return image_id

    def _transferred(self, action: str) -> Callable[[str, str], None]:
        def done(image_id: str, name: str) -> None:
            attrs = dict(self.image_config(image_id).get("config", {}).get("Labels") or {})
            self.events.publish("image", action, name, {**attrs, "name": name})

        return done

    def _publish(self, action: str, image_id: str, name: str, labels: bool = True) -> None:
        attrs: dict[str, str] = {}
        if labels and self.store.exists(image_id):
            attrs.update(self.image_config(image_id).get("config", {}).get("Labels") or {})
        attrs["name"] = name
        self.events.publish("image", action, image_id, attrs)

    # -- disk usage ------------------------------------------------------------------------

    def usage(self) -> ImageUsage:
        """Layer bytes for `system df`; a layer used by several images counts as shared."""
        sizes = self.layers.usage()
        chains = {rec.id: [layer.chain_id for layer in self.layers.chain(rec.top_layer)]
                  for rec in self.store.all()}  # fmt: skip
        users: dict[str, int] = {}
        for chain in chains.values():
            for c in chain:
                users[c] = users.get(c, 0) + 1
        return ImageUsage(
            sum(sizes.values()),
            {i: sum(sizes.get(c, 0) for c in chain) for i, chain in chains.items()},
            {i: sum(sizes.get(c, 0) for c in chain if users[c] > 1) for i, chain in chains.items()},
        )


def repo_tag_reference(
    repo: str | None, tag: str | None, importing: bool = False
) -> Reference | None:
    """Docker's RepoTagReference: `repo` may carry a tag; `tag` overrides it; None if no repo."""
    if not repo:
        return None
    ref = parse_normalized(repo)
    if ref.digest is not None:
        raise InvalidParameter("cannot import digest reference" if importing else
                               "refusing to create a tag with a digest reference")  # fmt: skip
    return ref.with_tag(tag) if tag else ref.with_default_tag()


def check_filters(filters: dict[str, list[str]]) -> None:
    for key, values in filters.items():
        if key not in IMAGE_FILTERS:
            raise InvalidParameter(f"invalid filter '{key}'")
        if key == "dangling" and any(v.lower() not in ("true", "false", "1", "0") for v in values):
            raise InvalidParameter(f"invalid filter 'dangling={values[0]}'")


def path_match(pattern: str, text: str) -> bool:
    """Go's path.Match: `*` and `?` never match '/'."""
    regex = ""
    for part in re.split(r"(\*|\?|\[[^\]]*\])", pattern):
        if part == "*":
            regex += "[^/]*"
        elif part == "?":
            regex += "[^/]"
        elif part.startswith("[") and part.endswith("]") and len(part) > 2:
            body = part[1:-1]
            regex += (
                "[^" + re.escape(body[1:]) + "]"
                if body.startswith("^")
                else "[" + re.escape(body) + "]"
            )
        else:
            regex += re.escape(part)
    return re.fullmatch(regex, text) is not None


class _Matcher:
    """The `docker images` filters, resolved once per listing."""

    def __init__(self, filters: dict[str, list[str]], store: ImageStore) -> None:
        self.filters = filters
        dangling = [v.lower() in ("true", "1") for v in filters.get("dangling", [])]
        self.dangling_only = bool(dangling) and all(dangling)
        self.before = min((store.get(store.resolve(v)).created_ns for v in filters.get("before", [])),
                          default=None)  # fmt: skip
        self.since = max((store.get(store.resolve(v)).created_ns for v in filters.get("since", [])),
                         default=None)  # fmt: skip
        self.store = store

    def refs(self, rec: ImageRecord) -> tuple[list[str], list[str]]:
        """The image's tags and digests (familiar), narrowed by any `reference` filter."""
        patterns = self.filters.get("reference", [])
        tags: list[str] = []
        digests: list[str] = []
        for ref in rec.refs:
            name = ref.familiar()
            if patterns and not any(path_match(p, name) or path_match(p, ref.familiar_name)
                                    for p in patterns):  # fmt: skip
                continue
            (tags if ref.digest is None else digests).append(name)
        return tags, digests

    def keep(self, rec: ImageRecord, labels: dict[str, str], tags: list[str],
             digests: list[str], show_all: bool) -> bool:  # fmt: skip
        """Docker's rules: untagged parents hide without `all`; `dangling` and `reference`."""
        if self.before is not None and rec.created_ns >= self.before:
            return False
        if self.since is not None and rec.created_ns <= self.since:
            return False
        if not all(_label_match(f, labels) for f in self.filters.get("label", [])):
            return False
        if tags or digests:
            return not (self.dangling_only and tags)
        if "reference" in self.filters:
            return False
        if not show_all and self.store.children(rec.id):
            return False
        return not ("dangling" in self.filters and not self.dangling_only)


def _label_match(flt: str, labels: dict[str, str]) -> bool:
    key, sep, value = flt.partition("=")
    return key in labels and (not sep or labels[key] == value)


def _summary(rec: ImageRecord, tags: list[str], digests: list[str], labels: dict[str, str],
             shared: int) -> dict[str, Any]:  # fmt: skip
    return {
        "Containers": -1,
        "Created": rec.created_ns // 1_000_000_000,
        "Id": rec.id,
        "Labels": labels,
        "ParentId": rec.parent,
        "RepoDigests": digests,
        "RepoTags": tags,
        "SharedSize": shared,
        "Size": rec.size,
    }
