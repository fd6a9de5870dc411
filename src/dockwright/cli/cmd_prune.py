"""`system prune`: stopped containers, unused networks, dangling (or all unused) images and the
unused build cache, through the per-kind prune endpoints, reported the way docker reports them."""

from __future__ import annotations

from dockwright.cli.context import Context
from dockwright.cli.flags import Parsed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def warning_text(everything: bool) -> str:
    images = (
        "all images without at least one container associated to them"
        if everything
        else "all dangling images"
    )
    items = [
        "all stopped containers",
        "all networks not used by at least one container",
        images,
        "unused build cache",
    ]
    return "WARNING! This will remove:\n" + "".join(f"  - {i}\n" for i in items) + "\n"


def container_lines(report: dict[str, Any]) -> list[str]:
    deleted = report.get("ContainersDeleted") or []
    return ["Deleted Containers:", *deleted, ""] if deleted else []


def network_lines(report: dict[str, Any]) -> list[str]:
    deleted = report.get("NetworksDeleted") or []
    return ["Deleted Networks:", *deleted, ""] if deleted else []


def image_lines(report: dict[str, Any]) -> list[str]:
    deleted = report.get("ImagesDeleted") or []
    if not deleted:
        return []
    lines = ["Deleted Images:"]
    for item in deleted:
        if item.get("Untagged"):
            lines.append(f"untagged: {item['Untagged']}")
        if item.get("Deleted"):
            lines.append(f"deleted: {item['Deleted']}")
    return [*lines, ""]


def build_cache_lines(report: dict[str, Any]) -> list[str]:
    deleted = report.get("CachesDeleted") or []
    return ["Deleted build cache objects:", *deleted, ""] if deleted else []


def system_prune(ctx: Context, p: Parsed) -> int:
    """Prune kind by kind in docker's order, printing each report as it comes; the first
    failure ends the command (what was pruned before it stays reported)."""
    from dockwright.cli.cmd_lifecycle import confirm
    from dockwright.cli.cmd_ps import parse_filters
    from dockwright.cli.units import human_size

    everything = p.opts["all"]
    if not p.opts["force"] and not confirm(ctx, warning_text(everything)[:-1]):
        return 0
    filters: dict[str, Any] = dict(parse_filters(p.opts["filter"]))
    image_filters = {**filters, "dangling": {"false" if everything else "true": True}}
    steps = (
        ("/containers/prune", filters, container_lines),
        ("/networks/prune", filters, network_lines),
        ("/images/prune", image_filters, image_lines),
        ("/build/prune", filters, build_cache_lines),
    )
    reclaimed = 0
    for path, step_filters, lines in steps:
        params = {"filters": step_filters or None}
        if path == "/build/prune":
            params["all"] = everything or None  # docker's builder prune --all with -a
        report = ctx.client.post(path, params) or {}
        reclaimed += int(report.get("SpaceReclaimed") or 0)
        for line in lines(report):
            ctx.out(line)
        ctx.stdout.flush()
    ctx.out(f"Total reclaimed space: {human_size(reclaimed)}")
    return 0
