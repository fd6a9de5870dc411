"""Image commands: images, tag, rmi, history, image prune, commit."""

from __future__ import annotations

import time

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.cli.units import human_size
from dockwright.client.errors import APIError
from dockwright.types.humanize import human_duration

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from typing import Any

HISTORY_HEADER = {
    "ID": "IMAGE",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "CreatedBy": "CREATED BY",
    "Size": "SIZE",
    "Comment": "COMMENT",
}
HISTORY_TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"


def images(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_ps import parse_filters
    from dockwright.cli.formatter import render_items
    from dockwright.cli.views import IMAGES_HEADER, IMAGES_TABLE, IMAGES_TABLE_DIGESTS, image_rows

    filters = parse_filters(p.opts["filter"])
    if p.args:
        filters.setdefault("reference", {})[p.args[0]] = True
    params = {"all": True if p.opts["all"] else None, "filters": filters or None}
    found = ctx.client.get("/images/json", params) or []
    fmt = p.opts["format"].strip()
    if p.opts["quiet"]:
        fmt = "{{.ID}}"
    elif fmt in ("", "table"):
        fmt = IMAGES_TABLE_DIGESTS if p.opts["digests"] else IMAGES_TABLE
    elif fmt == "json":
        fmt = "{{json .}}"
    rows = image_rows(found, not p.opts["no_trunc"])
    ctx.stdout.write(render_items(fmt, rows, IMAGES_HEADER))
    return 0


def tag(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_bootstrap import split_reference

    repo, tag_ = split_reference(p.args[1])
    ctx.client.request("POST", f"/images/{p.args[0]}/tag", {"repo": repo, "tag": tag_}).read()
    return 0


def rmi(ctx: Context, p: Parsed) -> int:
    params = {"force": p.opts["force"] or None, "noprune": p.opts["no_prune"] or None}
    errors: list[str] = []
    for name in p.args:
        try:
            report = ctx.client.delete(f"/images/{name}", params) or []
        except APIError as exc:
            errors.append(str(exc))
            continue
        for item in report:
            if item.get("Untagged"):
                ctx.out(f"Untagged: {item['Untagged']}")
            if item.get("Deleted"):
                ctx.out(f"Deleted: {item['Deleted']}")
    if errors:
        raise CommandExit(1, "\n".join(errors))
    return 0


class HistoryView:
    def __init__(self, h: dict[str, Any], trunc: bool, human: bool, now: float) -> None:
        self.h, self.trunc, self.human, self.now = h, trunc, human, now

    @property
    def ID(self) -> str:  # noqa: N802
        from dockwright.cli.views import truncate_id

        ident = str(self.h.get("Id") or "<missing>")
        return truncate_id(ident) if self.trunc and ident.startswith("sha256:") else ident

    @property
    def CreatedSince(self) -> str:  # noqa: N802
        created = float(self.h.get("Created") or 0)
        if not self.human:
            return self.CreatedAt
        return human_duration(self.now - created) + " ago"

    @property
    def CreatedAt(self) -> str:  # noqa: N802
        created = float(self.h.get("Created") or 0)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(created)) + _rfc3339_zone(created)

    @property
    def CreatedBy(self) -> str:  # noqa: N802
        from dockwright.cli.views import ellipsis

        text = str(self.h.get("CreatedBy") or "").replace("\t", " ")
        return ellipsis(text, 45) if self.trunc else text

    @property
    def Size(self) -> str:  # noqa: N802
        size = int(self.h.get("Size") or 0)
        return human_size(size, 3) if self.human else str(size)

    @property
    def Comment(self) -> str:  # noqa: N802
        return str(self.h.get("Comment") or "")

    def to_json(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in sorted(HISTORY_HEADER)}


def _rfc3339_zone(ts: float) -> str:
    offset = time.strftime("%z", time.localtime(ts))
    return "Z" if offset in ("+0000", "-0000") else f"{offset[:3]}:{offset[3:]}"


def history(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.formatter import render_items

    entries = ctx.client.get(f"/images/{p.args[0]}/history") or []
    fmt = p.opts["format"].strip()
    if p.opts["quiet"]:
        fmt = "{{.ID}}"
    elif fmt in ("", "table"):
        fmt = HISTORY_TABLE
    elif fmt == "json":
        fmt = "{{json .}}"
    now = time.time()
    rows = [HistoryView(h, not p.opts["no_trunc"], p.opts["human"], now) for h in entries]
    ctx.stdout.write(render_items(fmt, rows, HISTORY_HEADER))
    return 0


def prune(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_lifecycle import confirm
    from dockwright.cli.cmd_ps import parse_filters

    everything = p.opts["all"]
    warning = (
        "WARNING! This will remove all images without at least one container associated to them."
        if everything
        else "WARNING! This will remove all dangling images."
    )
    if not p.opts["force"] and not confirm(ctx, warning):
        return 0
    filters: dict[str, Any] = dict(parse_filters(p.opts["filter"]))
    filters["dangling"] = {"false" if everything else "true": True}
    report = ctx.client.post("/images/prune", {"filters": filters}) or {}
    deleted = report.get("ImagesDeleted") or []
    if deleted:
        ctx.out("Deleted Images:")
        for item in deleted:
            if item.get("Untagged"):
                ctx.out(f"untagged: {item['Untagged']}")
            if item.get("Deleted"):
                ctx.out(f"deleted: {item['Deleted']}")
        ctx.out()
    ctx.out(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0)}")
    return 0


def commit(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_bootstrap import split_reference

    params: dict[str, Any] = {
        "container": p.args[0],
        "comment": p.opts["message"] or None,
        "author": p.opts["author"] or None,
        "pause": p.opts["pause"],
        "changes": p.opts["change"] or None,
    }
    if len(p.args) > 1:
        params["repo"], params["tag"] = split_reference(p.args[1])
    result = ctx.client.post("/commit", params, {}) or {}
    ctx.out(str(result.get("Id", "")))
    return 0
