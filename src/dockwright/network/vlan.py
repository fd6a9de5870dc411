"""Pure: macvlan and ipvlan networks, records and plans (no bridge, no NAT, no ports).

Each endpoint is a child link of the network's parent interface, made directly inside the
container's netns; it goes away with that netns, so leaving and removing touch nothing on the
host, and the parent itself is never changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dockwright.errors import InvalidParameter
from dockwright.network.bridge import Op, plan_v6
from dockwright.network.defaults import user_network
from dockwright.network.model import Endpoint, Network, NetworkCreate

DRIVERS = ("macvlan", "ipvlan")
MACVLAN_MODES = ("bridge", "private", "vepa", "passthru")
IPVLAN_MODES = ("l2", "l3", "l3s")
_DEFAULT_MODE = {"macvlan": "bridge", "ipvlan": "l2"}


def mode_of(n: Network) -> str:
    """The macvlan_mode or ipvlan_mode of `n`, the driver's default when not given."""
    return n.options.get(f"{n.driver}_mode") or _DEFAULT_MODE[n.driver]


def check_options(driver: str, options: dict[str, str]) -> None:
    """InvalidParameter, with Docker's wording, for a bad macvlan_mode or ipvlan_mode."""
    mode = options.get(f"{driver}_mode", "")
    allowed = MACVLAN_MODES if driver == "macvlan" else IPVLAN_MODES
    if mode and mode not in allowed:
        default = _DEFAULT_MODE[driver]
        raise InvalidParameter(
            f"requested {driver} mode '{mode}' is not valid, "
            f"'{default}' mode is the {driver} driver default"
        )


def parent_to_make(driver: str, nid: str, parent: str, link_exists: Callable[[str], bool]) -> str:
    """The parent link a new network must create, "" when `parent` exists: Docker's dummy
    (`dm-<id>` for macvlan, `di-<id>` for ipvlan) when no parent is given, an 802.1q
    sub-interface for `eth0.10` when `eth0` exists. InvalidParameter for any other parent
    missing from the host."""
    if not parent:
        return f"d{driver[0]}-{nid[:12]}"
    if link_exists(parent):
        return ""
    link, dot, vid = parent.rpartition(".")
    if dot and vid.isdigit() and 1 <= int(vid) <= 4094 and link_exists(link):
        return parent
    raise InvalidParameter(f"-o parent interface was not found on the host: {parent}")


def plan_network(n: Network) -> list[Op]:
    """The parent the network made (dummy, or `link.vid` as an 802.1q vlan of `link`), up."""
    if not n.made_parent:
        return []
    link, dot, vid = n.made_parent.rpartition(".")
    if dot:
        return [Op("add_parent", ("vlan", n.made_parent, link, int(vid)))]
    return [Op("add_parent", ("dummy", n.made_parent, "", 0))]


def plan_remove_network(n: Network) -> list[Op]:
    return [Op("delete_link", (n.made_parent,))] if n.made_parent else []


def vlan_network(
    nid: str,
    req: NetworkCreate,
    others: list[Network],
    host_networks: list[str],
    link_exists: Callable[[str], bool],
) -> Network:
    """A macvlan or ipvlan network: IPAM as for a user bridge network, no bridge device; one
    network of a driver per parent, as Docker has it."""
    check_options(req.driver, req.options)
    made = parent_to_make(req.driver, nid, req.options.get("parent", ""), link_exists)
    parent = req.options.get("parent") or made
    for o in others:
        if o.driver == req.driver and o.options.get("parent") == parent:
            raise InvalidParameter(
                f"network dm-{o.id[:12]} is already using parent interface {parent}"
            )
    n = user_network(nid, req, others, host_networks)
    options = {**n.options, "parent": parent}
    return replace(n, driver=req.driver, bridge="", options=options, made_parent=made)


def endpoint_on(n: Network, ep: Endpoint) -> Endpoint:
    """Adjust a freshly allocated endpoint: ipvlan children share the parent's MAC, and an
    l3 ipvlan has no gateway to route through (its default route is the device)."""
    ep = replace(ep, ports=(), host_ifname="")
    if n.driver != "ipvlan":
        return ep
    l3 = mode_of(n) != "l2"
    return replace(ep, mac="", default_route=ep.default_route and not l3)


def plan_leave(ep: Endpoint, netns: str) -> list[Op]:
    """The child inside a netns that outlives the endpoint (disconnect from a running one)."""
    return [Op("delete_link_in", (netns, ep.ifname))]


def plan_join(n: Network, ep: Endpoint, netns: str) -> list[Op]:
    """A child of the parent, made as `ep.ifname` inside `netns`, then addressed."""
    gateway = ep.gateway if ep.default_route else ""
    mtu = int(n.options.get("com.docker.network.driver.mtu") or 0)  # 0: the parent's
    return [
        Op("add_sublink", (n.driver, n.options["parent"], mode_of(n), netns, ep.ifname, mtu)),
        Op("configure_container_side", (netns, ep.ifname, ep.ip, ep.prefixlen, gateway, ep.mac)),
        *plan_v6(ep, netns),
    ]
