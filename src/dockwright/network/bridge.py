"""The bridge driver's executor: plans (pure lists of operations) applied over the kernel seams.

`plan_network` and `plan_join` say what to do as data (unit-tested against the recording fake);
`Executor.run` applies the operations in order and, when one fails, undoes the ones already
done, so a failed join leaves no veth behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dockwright.kernel.netlink_ext import ExtLinks
from dockwright.network.ipam import parse_subnet
from dockwright.network.ipam6 import parse_subnet6
from dockwright.network.model import Endpoint, Network


@dataclass(frozen=True)
class Op:
    """One kernel operation: `kind` names a Links method, `args` its arguments."""

    kind: str
    args: tuple[object, ...]


# the operation that undoes each kind (None: nothing to undo)
_UNDO: dict[str, Callable[[Op], Op | None]] = {
    "ensure_bridge": lambda op: None,  # a bridge outlives a failed join
    "set_sysctl": lambda op: None,
    "set_sysctl_if_present": lambda op: None,
    "add_veth": lambda op: Op("delete_link", (op.args[0],)),
    "configure_container_side": lambda op: None,  # goes with the veth
    "add_sublink": lambda op: None,  # inside the container's netns: goes with it
    "delete_link": lambda op: None,
    "delete_link_in": lambda op: None,
    "add_address6": lambda op: None,  # goes with the bridge
    "configure_v6": lambda op: None,  # goes with the veth
    "add_parent": lambda op: Op("delete_link", (op.args[1],)),
}


def plan_network(n: Network) -> list[Op]:
    """The bridge of `n`, with its gateway addresses, up, routing what its containers send;
    127.0.0.1 may be DNATed onto it (nothing for a network without a bridge)."""
    if not n.bridge:  # macvlan, ipvlan
        return []
    prefix = parse_subnet(n.subnet).prefixlen
    ops = [
        Op("ensure_bridge", (n.bridge, n.gateway, prefix, n.mtu)),
        Op("set_sysctl", (f"net.ipv4.conf.{n.bridge}.route_localnet", "1")),
        # packets from the bridge are routed even when the host does not forward: hairpin
        # and published ports across networks (the nft forward chain keeps the rest in)
        Op("set_sysctl", (f"net.ipv4.conf.{n.bridge}.forwarding", "1")),
    ]
    if n.ipv6:
        prefix6 = parse_subnet6(n.subnet6).prefixlen
        ops.append(Op("set_sysctl", (f"net.ipv6.conf.{n.bridge}.disable_ipv6", "0")))
        ops.append(Op("set_sysctl_if_present", (f"net.ipv6.conf.{n.bridge}.force_forwarding", "1")))
        ops.append(Op("add_address6", (n.bridge, n.gateway6, prefix6)))
    return ops


def plan_join(n: Network, ep: Endpoint, netns: str) -> list[Op]:
    """A veth from the bridge of `n` into `netns`, addressed as `ep` says."""
    return [
        Op("add_veth", (ep.host_ifname, n.bridge, netns, n.mtu, ep.ifname)),
        Op(
            "configure_container_side",
            (netns, ep.ifname, ep.ip, ep.prefixlen, ep.gateway if ep.default_route else "", ep.mac),
        ),
        *plan_v6(ep, netns),
    ]


def plan_v6(ep: Endpoint, netns: str) -> list[Op]:
    """The IPv6 address (and default route) of an endpoint on a dual-stack network."""
    if not ep.ip6:
        return []
    gateway6 = ep.gateway6 if ep.default_route else ""
    return [Op("configure_v6", (netns, ep.ifname, ep.ip6, ep.prefixlen6, gateway6))]


def plan_leave(ep: Endpoint) -> list[Op]:
    """The host end of the veth; nothing for a macvlan/ipvlan child (it has no host end)."""
    return [Op("delete_link", (ep.host_ifname,))] if ep.host_ifname else []


def plan_remove_network(n: Network) -> list[Op]:
    """The bridge of `n`; nothing for a network without one (macvlan, ipvlan)."""
    return [Op("delete_link", (n.bridge,))] if n.bridge else []


class Executor:
    def __init__(self, links: ExtLinks) -> None:
        self.links = links

    def run(self, ops: list[Op]) -> None:
        done: list[Op] = []
        try:
            for op in ops:
                getattr(self.links, op.kind)(*op.args)
                done.append(op)
        except BaseException:
            self._undo(done)
            raise

    def _undo(self, done: list[Op]) -> None:
        for op in reversed(done):
            undo = _UNDO[op.kind](op)
            if undo is not None:
                try:
                    getattr(self.links, undo.kind)(*undo.args)
                except Exception:
                    pass
