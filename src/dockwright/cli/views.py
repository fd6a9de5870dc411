"""Template contexts for `ps` and `images`: the fields docker's formatters expose, computed from
the API's list JSON. Pure; `now` is passed in so tests are stable.
"""

from __future__ import annotations

import time

from dockwright.cli.gofmt import go_quote
from dockwright.cli.units import human_size
from dockwright.types.humanize import human_duration

PS_HEADER = {
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED",
    "Ports": "PORTS",
    "State": "STATE",
    "Status": "STATUS",
    "Size": "SIZE",
    "Names": "NAMES",
    "Labels": "LABELS",
    "Mounts": "MOUNTS",
    "LocalVolumes": "LOCAL VOLUMES",
    "Networks": "NETWORKS",
}
PS_TABLE = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)

TYPE_CHECKING = False  # hot path (`ps`): no typing import at run time
if TYPE_CHECKING:
    from typing import Any

IMAGES_HEADER = {
    "ID": "IMAGE ID",
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "Digest": "DIGEST",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "Size": "SIZE",
    "Containers": "CONTAINERS",
    "VirtualSize": "VIRTUAL SIZE",
    "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
}
IMAGES_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_TABLE_DIGESTS = (
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
)


def truncate_id(ident: str) -> str:
    """stringid.TruncateID: drop an algorithm prefix, keep 12 characters."""
    return ident.split(":", 1)[-1][:12]


def ellipsis(s: str, width: int) -> str:
    """formatter.Ellipsis: cut to `width` runes, the last one being `…`."""
    if len(s) <= width:
        return s
    return s[: width - 1] + "…" if width > 1 else s[:width]


def go_time(ts: float) -> str:
    """Go's `time.Time.String()` in local time: `2024-01-02 15:04:05 +0100 CET`."""
    return time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(ts))


def since(ts: float, now: float) -> str:
    return human_duration(now - ts) + " ago"


def format_port(p: dict[str, Any]) -> str:
    proto = p.get("Type") or "tcp"
    private = f"{p.get('PrivatePort')}/{proto}"
    if p.get("PublicPort"):
        ip = p.get("IP") or "0.0.0.0"
        host = f"[{ip}]" if ":" in ip else ip
        return f"{host}:{p['PublicPort']}->{private}"
    return private


def display_ports(ports: list[dict[str, Any]] | None) -> str:
    """The PORTS column (docker also merges ranges; single ports are what we have)."""
    seen: list[str] = []
    for p in sorted(ports or [], key=lambda q: (q.get("PrivatePort", 0), q.get("IP") or "")):
        text = format_port(p)
        if text not in seen:
            seen.append(text)
    return ", ".join(seen)


class ContainerView:
    """One `ps` row; attributes are what `--format` templates can name."""

    def __init__(self, c: dict[str, Any], trunc: bool = True, now: float | None = None) -> None:
        self.c = c
        self.trunc = trunc
        self.now = time.time() if now is None else now

    @property
    def ID(self) -> str:  # noqa: N802 - template field names are docker's
        ident = str(self.c.get("Id", ""))
        return truncate_id(ident) if self.trunc else ident

    @property
    def Names(self) -> str:  # noqa: N802
        names = [n.lstrip("/") for n in self.c.get("Names") or []]
        if self.trunc:
            plain = [n for n in names if "/" not in n]
            names = plain[:1] or names
        return ",".join(names)

    @property
    def Image(self) -> str:  # noqa: N802
        image = str(self.c.get("Image") or "")
        if not image:
            return "<no image>"
        if self.trunc and image.startswith("sha256:"):
            return truncate_id(image)
        return image

    @property
    def Command(self) -> str:  # noqa: N802
        command = str(self.c.get("Command") or "")
        if self.trunc:
            command = ellipsis(command, 20)
        return go_quote(command)

    @property
    def CreatedAt(self) -> str:  # noqa: N802
        return go_time(float(self.c.get("Created") or 0))

    @property
    def RunningFor(self) -> str:  # noqa: N802
        return since(float(self.c.get("Created") or 0), self.now)

    @property
    def Ports(self) -> str:  # noqa: N802
        return display_ports(self.c.get("Ports"))

    @property
    def State(self) -> str:  # noqa: N802
        return str(self.c.get("State") or "")

    @property
    def Status(self) -> str:  # noqa: N802
        return str(self.c.get("Status") or "")

    @property
    def Size(self) -> str:  # noqa: N802
        rw, root = self.c.get("SizeRw") or 0, self.c.get("SizeRootFs") or 0
        text = human_size(rw, 3)
        return f"{text} (virtual {human_size(root, 3)})" if root else text

    @property
    def Labels(self) -> str:  # noqa: N802
        labels = self.c.get("Labels") or {}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def Label(self, name: str) -> str:  # noqa: N802
        return str((self.c.get("Labels") or {}).get(name, ""))

    @property
    def Mounts(self) -> str:  # noqa: N802
        names = []
        for m in self.c.get("Mounts") or []:
            name = m.get("Name") or m.get("Source") or ""
            names.append(ellipsis(name, 15) if self.trunc else name)
        return ",".join(names)

    @property
    def LocalVolumes(self) -> str:  # noqa: N802
        return str(sum(1 for m in self.c.get("Mounts") or [] if m.get("Driver") == "local"))

    @property
    def Networks(self) -> str:  # noqa: N802
        nets = (self.c.get("NetworkSettings") or {}).get("Networks") or {}
        return ",".join(sorted(nets))

    def to_json(self) -> dict[str, str]:
        """`{{json .}}`: every field, keys sorted (docker marshals a map)."""
        return {k: getattr(self, k) for k in sorted(PS_HEADER)}


class ImageView:
    """One `images` row (an image appears once per repo:tag)."""

    def __init__(
        self,
        img: dict[str, Any],
        repo: str,
        tag: str,
        digest: str = "<none>",
        trunc: bool = True,
        now: float | None = None,
    ) -> None:
        self.img, self.Repository, self.Tag, self.Digest = img, repo, tag, digest
        self.trunc = trunc
        self.now = time.time() if now is None else now

    @property
    def ID(self) -> str:  # noqa: N802
        ident = str(self.img.get("Id", ""))
        return truncate_id(ident) if self.trunc else ident

    @property
    def CreatedSince(self) -> str:  # noqa: N802
        created = float(self.img.get("Created") or 0)
        return since(created, self.now) if created else "N/A"

    @property
    def CreatedAt(self) -> str:  # noqa: N802
        return go_time(float(self.img.get("Created") or 0))

    @property
    def Size(self) -> str:  # noqa: N802
        return human_size(float(self.img.get("Size") or 0), 3)

    @property
    def VirtualSize(self) -> str:  # noqa: N802
        return human_size(float(self.img.get("VirtualSize") or self.img.get("Size") or 0), 3)

    @property
    def SharedSize(self) -> str:  # noqa: N802
        shared = self.img.get("SharedSize", -1)
        return "N/A" if shared is None or shared < 0 else human_size(shared, 3)

    @property
    def UniqueSize(self) -> str:  # noqa: N802
        shared = self.img.get("SharedSize", -1)
        if shared is None or shared < 0:
            return "N/A"
        return human_size(float(self.img.get("Size") or 0) - shared, 3)

    @property
    def Containers(self) -> str:  # noqa: N802
        n = self.img.get("Containers", -1)
        return "N/A" if n is None or n < 0 else str(n)

    def to_json(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in sorted(IMAGES_HEADER)}


def image_rows(
    images: list[dict[str, Any]],
    trunc: bool = True,
    now: float | None = None,
    show_dangling: bool = True,
) -> list[ImageView]:
    """One row per repo:tag (docker's order: as the daemon lists them), `<none>` for untagged."""
    rows: list[ImageView] = []
    for img in images:
        digests = {
            d.split("@", 1)[0]: d.split("@", 1)[1] for d in img.get("RepoDigests") or [] if "@" in d
        }
        tags = [t for t in img.get("RepoTags") or [] if t != "<none>:<none>"]
        for ref in tags:
            repo, _, tag = ref.rpartition(":")
            rows.append(ImageView(img, repo, tag, digests.get(repo, "<none>"), trunc, now))
        if not tags and show_dangling:
            repo = next(iter(digests), "<none>")
            rows.append(ImageView(img, repo, "<none>", digests.get(repo, "<none>"), trunc, now))
    return rows
