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
    v4, v6 = _pools(field(ipam, "Config", list, []) or [])
    return NetworkCreate(
        name=body["Name"],
        driver=field(body, "Driver", str, "") or "bridge",
        subnet=field(v4, "Subnet", str, ""),
        gateway=field(v4, "Gateway", str, ""),
        ip_range=field(v4, "IPRange", str, ""),
        internal=field(body, "Internal", bool, False),
        options=str_map(body, "Options"),
        labels=str_map(body, "Labels"),
        enable_ipv6=bool(field(body, "EnableIPv6", bool, False)),
        subnet6=field(v6, "Subnet", str, ""),
        gateway6=field(v6, "Gateway", str, ""),
        ip_range6=field(v6, "IPRange", str, ""),
    )


def _pools(configs: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """IPAM.Config split by family: at most one IPv4 and one IPv6 pool."""
    found: dict[bool, dict[str, Any]] = {}
    for pool in configs:
        if not isinstance(pool, dict):
            raise InvalidParameter("invalid IPAM config: expected an object")
        v6 = ":" in field(pool, "Subnet", str, "")
        if v6 in found:
            family = "IPv6" if v6 else "IPv4"
            raise InvalidParameter(f"only one {family} pool per network is supported")
        found[v6] = pool
    return found.get(False, {}), found.get(True, {})


EndpointRequest = tuple[str, tuple[str, ...], str]  # static IPv4, aliases, static IPv6


def parse_networking_config(body: Any) -> dict[str, EndpointRequest]:
    """A create body's NetworkingConfig.EndpointsConfig: network → its EndpointRequest."""
    raw = body.get("NetworkingConfig") if isinstance(body, dict) else None
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise InvalidParameter("invalid NetworkingConfig: expected an object")
    configs = field(raw, "EndpointsConfig", dict, {}) or {}
    return {str(name): parse_endpoint_config(cfg) for name, cfg in configs.items()}


def parse_endpoint_config(raw: Any) -> EndpointRequest:
    """EndpointSettings of connect/create: (static IPv4 or "", aliases, static IPv6 or "")."""
    if raw is None:
        return "", (), ""
    if not isinstance(raw, dict):
        raise InvalidParameter("invalid EndpointConfig: expected an object")
    ipam = field(raw, "IPAMConfig", dict, {}) or {}
    aliases = field(raw, "Aliases", list, []) or []
    if not all(isinstance(a, str) for a in aliases):
        raise InvalidParameter("invalid Aliases: expected a list of strings")
    ip6 = field(ipam, "IPv6Address", str, "")
    return field(ipam, "IPv4Address", str, ""), tuple(aliases), ip6


def network_json(n: Network, endpoints: list[Endpoint] | None = None) -> dict[str, Any]:
    """GET /networks/{id}; `endpoints` None for the list form (Containers left empty)."""
    return {
        "Name": n.name,
        "Id": n.id,
        "Created": rfc3339nano(n.created),
        "Scope": "local",
        "Driver": _DRIVERS.get(n.driver, n.driver),
        "EnableIPv4": True,
        "EnableIPv6": n.ipv6,
        "IPAM": {
            "Driver": "default",
            "Options": None if n.default or not n.subnet else {},
            "Config": _pools_json(n),
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


def _pools_json(n: Network) -> list[dict[str, str]]:
    pools = [{"Subnet": n.subnet, "Gateway": n.gateway}] if n.subnet else []
    if pools and n.ip_range:
        pools[0]["IPRange"] = n.ip_range
    if n.subnet6:
        pools.append({"Subnet": n.subnet6, "Gateway": n.gateway6})
        if n.ip_range6:
            pools[-1]["IPRange"] = n.ip_range6
    return pools


def _container_entry(e: Endpoint) -> dict[str, str]:
    return {
        "Name": e.container_name,
        "EndpointID": e.id,
        "MacAddress": e.mac,
        "IPv4Address": f"{e.ip}/{e.prefixlen}",
        "IPv6Address": f"{e.ip6}/{e.prefixlen6}" if e.ip6 else "",
    }


def endpoint_json(a: Attachment) -> dict[str, Any]:
    """One entry of NetworkSettings.Networks (addresses empty while not attached)."""
    e, n = a.endpoint, a.network
    name = e.container_name if e else ""
    return {
        "IPAMConfig": _ipam_config(a),
        "Links": None,
        "Aliases": list(a.aliases) or None,
        "DriverOpts": None,
        "GwPriority": 0,
        "NetworkID": n.id,
        **_addresses_json(e),
        "DNSNames": [name, e.container_id[:12], *a.aliases] if e and not n.default else None,
    }


def _ipam_config(a: Attachment) -> dict[str, str] | None:
    """The static addresses asked for (EndpointSettings.IPAMConfig), None when none."""
    out = {"IPv4Address": a.static_ip} if a.static_ip else {}
    if a.static_ip6:
        out["IPv6Address"] = a.static_ip6
    return out or None


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
        e = a.endpoint
        for m in e.ports if e else ():
            key = f"{m.container_port}/{m.proto}"
            out[key] = [
                *(out.get(key) or []),
                *_bindings(m.host_ip, m.host_port, bool(e and e.ip6)),
            ]
    return out


def _bindings(host_ip: str, port: int, dual: bool) -> list[dict[str, str]]:
    """Docker shows a port published on every address as 0.0.0.0, and :: too when the
    container has an IPv6 address."""
    if host_ip:
        return [{"HostIp": host_ip, "HostPort": str(port)}]
    ips = ("0.0.0.0", "::") if dual else ("0.0.0.0",)
    return [{"HostIp": ip, "HostPort": str(port)} for ip in ips]


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
    return _addresses_json(default.endpoint if default is not None else None)


def _addresses_json(e: Endpoint | None) -> dict[str, Any]:
    """An endpoint's ids and addresses, as both EndpointSettings and the top level show them."""
    return {
        "EndpointID": e.id if e else "",
        "Gateway": e.gateway if e else "",
        "IPAddress": e.ip if e else "",
        "IPPrefixLen": e.prefixlen if e else 0,
        "MacAddress": e.mac if e else "",
        "GlobalIPv6Address": e.ip6 if e else "",
        "GlobalIPv6PrefixLen": e.prefixlen6 if e else 0,
        "IPv6Gateway": e.gateway6 if e else "",
    }
