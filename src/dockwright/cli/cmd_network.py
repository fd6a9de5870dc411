"""`network create|ls|rm|inspect|prune|connect|disconnect`."""

from __future__ import annotations

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.client.errors import APIError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NETWORK_HEADER = {
    "ID": "NETWORK ID",
    "Name": "NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "IPv6": "IPV6",
    "Internal": "INTERNAL",
    "Labels": "LABELS",
    "CreatedAt": "CREATED",
}
NETWORK_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"


class NetworkView:
    """One `network ls` row."""

    def __init__(self, n: dict[str, Any], trunc: bool = True) -> None:
        self.n, self.trunc = n, trunc

    @property
    def ID(self) -> str:  # noqa: N802
        ident = str(self.n.get("Id", ""))
        return ident[:12] if self.trunc else ident

    @property
    def Name(self) -> str:  # noqa: N802
        return str(self.n.get("Name", ""))

    @property
    def Driver(self) -> str:  # noqa: N802
        return str(self.n.get("Driver", ""))

    @property
    def Scope(self) -> str:  # noqa: N802
        return str(self.n.get("Scope", ""))

    @property
    def IPv6(self) -> str:  # noqa: N802
        return "true" if self.n.get("EnableIPv6") else "false"

    @property
    def Internal(self) -> str:  # noqa: N802
        return "true" if self.n.get("Internal") else "false"

    @property
    def Labels(self) -> str:  # noqa: N802
        labels = self.n.get("Labels") or {}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def Label(self, name: str) -> str:  # noqa: N802
        return str((self.n.get("Labels") or {}).get(name, ""))

    @property
    def CreatedAt(self) -> str:  # noqa: N802
        return str(self.n.get("Created", ""))

    def to_json(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in sorted(NETWORK_HEADER)}


def natural_key(name: str) -> list[Any]:
    """docker sorts networks with sortorder.NaturalLess: digit runs compare as numbers."""
    parts: list[Any] = []
    digits = ""
    text = ""
    for ch in name:
        if ch.isdigit():
            if text:
                parts.append((1, text))
                text = ""
            digits += ch
        else:
            if digits:
                parts.append((0, int(digits)))
                digits = ""
            text += ch
    if digits:
        parts.append((0, int(digits)))
    if text:
        parts.append((1, text))
    return parts


def create_body(p: Parsed) -> dict[str, Any]:
    """The `POST /networks/create` body for `network create` flags (pure)."""
    from dockwright.cli.runparse import parse_kv_list

    o = p.opts
    configs = []
    for i, subnet in enumerate(o["subnet"]):
        cfg = {"Subnet": subnet}
        if i < len(o["gateway"]):
            cfg["Gateway"] = o["gateway"][i]
        if i < len(o["ip_range"]):
            cfg["IPRange"] = o["ip_range"][i]
        configs.append(cfg)
    if o["gateway"] and not o["subnet"]:
        raise CommandExit(1, "every ip-range or gateway must have a corresponding subnet")
    return {
        "Name": p.args[0],
        "Driver": o["driver"],
        "IPAM": {
            "Driver": o["ipam_driver"],
            "Config": configs,
            "Options": parse_kv_list(o["ipam_opt"]),
        },
        "Internal": o["internal"],
        "Attachable": o["attachable"],
        "EnableIPv6": o["ipv6"],
        "Options": parse_kv_list(o["opt"]),
        "Labels": parse_kv_list(o["label"]),
    }


def create(ctx: Context, p: Parsed) -> int:
    result = ctx.client.post("/networks/create", None, create_body(p)) or {}
    if result.get("Warning"):
        ctx.err(f"WARNING: {result['Warning']}")
    ctx.out(str(result.get("Id", "")))
    return 0


def ls(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_ps import parse_filters
    from dockwright.cli.formatter import render_items

    filters = parse_filters(p.opts["filter"]) or None
    networks = ctx.client.get("/networks", {"filters": filters}) or []
    networks.sort(key=lambda n: natural_key(str(n.get("Name", ""))))
    fmt = p.opts["format"].strip()
    if p.opts["quiet"]:
        fmt = "{{.ID}}"
    elif fmt in ("", "table"):
        fmt = NETWORK_TABLE
    elif fmt == "json":
        fmt = "{{json .}}"
    rows = [NetworkView(n, not p.opts["no_trunc"]) for n in networks]
    ctx.stdout.write(render_items(fmt, rows, NETWORK_HEADER))
    return 0


def rm(ctx: Context, p: Parsed) -> int:
    """Errors are printed as they happen; docker 28 then ends with a bare "exit status 1"."""
    failed = False
    for name in p.args:
        try:
            ctx.client.request("DELETE", f"/networks/{name}").read()
            ctx.out(name)
        except APIError as exc:
            if p.opts["force"] and exc.not_found:
                continue
            ctx.err(str(exc))
            failed = True
    if failed:
        raise CommandExit(1, "exit status 1")
    return 0


def inspect(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_inspect import inspect_all

    return inspect_all(ctx, p, lambda name: ctx.client.get(f"/networks/{name}"))


def prune(ctx: Context, p: Parsed) -> int:
    from dockwright.cli.cmd_lifecycle import confirm
    from dockwright.cli.cmd_ps import parse_filters

    warning = "WARNING! This will remove all custom networks not used by at least one container."
    if not p.opts["force"] and not confirm(ctx, warning):
        return 0
    report = (
        ctx.client.post("/networks/prune", {"filters": parse_filters(p.opts["filter"]) or None})
        or {}
    )
    deleted = report.get("NetworksDeleted") or []
    if deleted:
        ctx.out("Deleted Networks:")
        for name in deleted:
            ctx.out(name)
    return 0


def connect(ctx: Context, p: Parsed) -> int:
    network, container = p.args
    endpoint: dict[str, Any] = {}
    if p.opts["alias"]:
        endpoint["Aliases"] = p.opts["alias"]
    ipam = {k: v for k, v in (("IPv4Address", p.opts["ip"]), ("IPv6Address", p.opts["ip6"])) if v}
    if ipam:
        endpoint["IPAMConfig"] = ipam
    body = {"Container": container, "EndpointConfig": endpoint}
    ctx.client.post(f"/networks/{network}/connect", None, body)
    return 0


def disconnect(ctx: Context, p: Parsed) -> int:
    network, container = p.args
    try:
        ctx.client.post(
            f"/networks/{network}/disconnect",
            None,
            {"Container": container, "Force": p.opts["force"]},
        )
    except APIError as exc:
        raise CommandExit(1, str(exc)) from None
    return 0
