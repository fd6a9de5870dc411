"""Pure: which driver's plan builds, joins, leaves or removes a network (bridge or vlan)."""

from __future__ import annotations

from dockwright.network import bridge, vlan
from dockwright.network.bridge import Op
from dockwright.network.model import Endpoint, Network


def plan_network(n: Network) -> list[Op]:
    return vlan.plan_network(n) if n.driver in vlan.DRIVERS else bridge.plan_network(n)


def plan_remove_network(n: Network) -> list[Op]:
    if n.driver in vlan.DRIVERS:
        return vlan.plan_remove_network(n)
    return bridge.plan_remove_network(n)


def plan_join(n: Network, ep: Endpoint, netns: str) -> list[Op]:
    if n.driver in vlan.DRIVERS:
        return vlan.plan_join(n, ep, netns)
    return bridge.plan_join(n, ep, netns)


def plan_leave(ep: Endpoint, netns: str) -> list[Op]:
    """`netns`: the container's when it lives on (a macvlan/ipvlan child is removed there)."""
    if not ep.host_ifname and netns:
        return vlan.plan_leave(ep, netns)
    return bridge.plan_leave(ep)
