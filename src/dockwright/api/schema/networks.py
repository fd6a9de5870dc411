"""Docker's network JSON: the create body in; network, endpoint and port shapes out."""

from __future__ import annotations

from typing import Any

from dockwright.api.schema.common import field, rfc3339nano, str_map
from dockwright.engine.networks import (
    Attachment,
    ContainerNetworking,
    Endpoint,
    Network,
    NetworkCreate,
    parse_port_key,
)
from dockwright.errors import InvalidParameter

_DRIVERS = {"bridge": "bridge", "host": "host", "null": "null"}


def parse_network_create(body: Any) -> NetworkCreate:
    if not isinstance(body, dict) or not field(body, "Name", str, ""):
        raise InvalidParameter("network name is required")
    ipam = field(body, "IPAM", dict, {}) or {}
    configs = field(ipam, "Config", list, []) or []
    if len(configs) > 1:
        raise InvalidParameter("only one IPv4 pool per network is supported")
    pool = configs[0] if configs else {}
    if not isinstance(pool, dict):
        raise InvalidParameter("invalid IPAM config: expected an object")
    if ":" in field(pool, "Subnet", str, ""):
        raise InvalidParameter("IPv6 pools are not supported yet")
    return NetworkCreate(
        name=body["Name"],
        driver=field(body, "Driver", str, "") or "bridge",
        subnet=field(pool, "Subnet", str, ""),
        gateway=field(pool, "Gateway", str, ""),
        ip_range=field(pool, "IPRange", str, ""),
        internal=field(body, "Internal", bool, False),
        options=str_map(body, "Options"),
        labels=str_map(body, "Labels"),
    )


def parse_networking_config(body: Any) -> dict[str, tuple[str, tuple[str, ...]]]:
    """A create body's NetworkingConfig.EndpointsConfig: network → (static IPv4, aliases)."""
    raw = body.get("NetworkingConfig") if isinstance(body, dict) else None
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise InvalidParameter("invalid NetworkingConfig: expected an object")
    configs = field(raw, "EndpointsConfig", dict, {}) or {}
    return {str(name): parse_endpoint_config(cfg) for name, cfg in configs.items()}


def parse_endpoint_config(raw: Any) -> tuple[str, tuple[str, ...]]:
    """EndpointSettings of connect/create: (static IPv4 or "", aliases)."""
    if raw is None:
        return "", ()
    if not isinstance(raw, dict):
        raise InvalidParameter("invalid EndpointConfig: expected an object")
    ipam = field(raw, "IPAMConfig", dict, {}) or {}
    aliases = field(raw, "Aliases", list, []) or []
    if not all(isinstance(a, str) for a in aliases):
        raise InvalidParameter("invalid Aliases: expected a list of strings")
    return field(ipam, "IPv4Address", str, ""), tuple(aliases)


def network_json(n: Network, endpoints: list[Endpoint] | None = None) -> dict[str, Any]:
    """GET /networks/{id}; `endpoints` None for the list form (Containers left empty)."""
    pools = [{"Subnet": n.subnet, "Gateway": n.gateway}] if n.subnet else []
    if pools and n.ip_range:
        pools[0]["IPRange"] = n.ip_range
    return {
        "Name": n.name,
        "Id": n.id,
        "Created": rfc3339nano(n.created),
        "Scope": "local",
        "Driver": _DRIVERS.get(n.driver, n.driver),
        "EnableIPv4": True,
        "EnableIPv6": False,
        "IPAM": {
            "Driver": "default",
            "Options": None if n.default or not n.subnet else {},
            "Config": pools,
        },
        "Internal": n.internal,
        "Attachable": False,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": {e.container_id: _container_entry(e) for e in endpoints or []},
        "Options": dict(n.options),
        "Labels": dict(n.labels),
    }


def _container_entry(e: Endpoint) -> dict[str, str]:
    return {
        "Name": e.container_name,
        "EndpointID": e.id,
        "MacAddress": e.mac,
        "IPv4Address": f"{e.ip}/{e.prefixlen}",
        "IPv6Address": "",
    }


def endpoint_json(a: Attachment) -> dict[str, Any]:
    """One entry of NetworkSettings.Networks (addresses empty while not attached)."""
    e, n = a.endpoint, a.network
    name = e.container_name if e else ""
    return {
        "IPAMConfig": {"IPv4Address": a.static_ip} if a.static_ip else None,
        "Links": None,
        "Aliases": list(a.aliases) or None,
        "MacAddress": e.mac if e else "",
        "DriverOpts": None,
        "GwPriority": 0,
        "NetworkID": n.id,
        "EndpointID": e.id if e else "",
        "Gateway": e.gateway if e else "",
        "IPAddress": e.ip if e else "",
        "IPPrefixLen": e.prefixlen if e else 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": [name, e.container_id[:12], *a.aliases] if e and not n.default else None,
    }


def networks_json(net: ContainerNetworking | None) -> dict[str, Any]:
    if net is None:
        return {}
    return {a.network.name: endpoint_json(a) for a in net.attachments}


def ports_json(net: ContainerNetworking | None) -> dict[str, Any]:
    """NetworkSettings.Ports: published bindings, and exposed ports as null (running only)."""
    if net is None or not net.live:
        return {}
    out: dict[str, Any] = {}
    for key in net.exposed:
        port, proto = parse_port_key(key)
        out[f"{port}/{proto}"] = None
    for a in net.live:
        for m in a.endpoint.ports if a.endpoint else ():
            binding = {"HostIp": m.host_ip or "0.0.0.0", "HostPort": str(m.host_port)}
            key = f"{m.container_port}/{m.proto}"
            out[key] = [*(out.get(key) or []), binding]
    return out


def summary_ports(net: ContainerNetworking | None) -> list[dict[str, Any]]:
    """The Ports list of GET /containers/json."""
    out: list[dict[str, Any]] = []
    for key, bindings in ports_json(net).items():
        port, proto = parse_port_key(key)
        if not bindings:
            out.append({"PrivatePort": port, "Type": proto})
        for b in bindings or []:
            out.append(
                {
                    "IP": b["HostIp"],
                    "PrivatePort": port,
                    "PublicPort": int(b["HostPort"]),
                    "Type": proto,
                }
            )
    return out


def top_level_json(net: ContainerNetworking | None) -> dict[str, Any]:
    """The deprecated top-level fields of NetworkSettings (filled for the default bridge)."""
    default = next((a for a in net.live if a.network.default), None) if net else None
    if default is None or default.endpoint is None:
        return {
            "EndpointID": "",
            "Gateway": "",
            "IPAddress": "",
            "IPPrefixLen": 0,
            "MacAddress": "",
        }
    e = default.endpoint
    return {
        "EndpointID": e.id,
        "Gateway": e.gateway,
        "IPAddress": e.ip,
        "IPPrefixLen": e.prefixlen,
        "MacAddress": e.mac,
    }
