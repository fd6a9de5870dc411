"""The networks service's state and the operations its parts share: records, the kernel
seams, the nft program, and allocating or releasing one endpoint.

Kernel work runs in threads; allocations are computed and recorded on the event loop, so two
starts never get the same address. Every nft change rewrites this daemon's whole tables from
the records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from dockwright.engine.events import EventBus
from dockwright.errors import Conflict, InvalidParameter, NotFound
from dockwright.kernel import nft
from dockwright.kernel.netlink_ext import ExtLinks, NetlinkExtLinks
from dockwright.kernel.netns import udp_socket_in
from dockwright.network import bridge, ipam, ipam6, nftrules, plans, ports, vlan
from dockwright.network.dns import SocketFactory
from dockwright.network.endpoints import new_endpoint
from dockwright.network.model import Endpoint, Network, Wanted
from dockwright.network.naming import nft_table
from dockwright.network.proxy import LoopbackProxies
from dockwright.network.records import NetworkRecords
from dockwright.network.resolvers import EmbeddedDns
from dockwright.store.db import Database
from dockwright.types.config import DaemonConfig
from dockwright.types.container import Container

log = logging.getLogger("dockwright.networks")

PREDEFINED = ("bridge", "host", "none")
ATTACHABLE = ("bridge", *vlan.DRIVERS)  # drivers whose networks give containers endpoints


class NetworkBase:
    def __init__(
        self,
        config: DaemonConfig,
        db: Database,
        events: EventBus,
        links: ExtLinks | None = None,
        apply_nft: Callable[[str], None] = nft.apply,
        dns_socket: SocketFactory = udp_socket_in,
        proxies: LoopbackProxies | None = None,
    ) -> None:
        self.config = config
        self.records = NetworkRecords(db)
        self.events = events
        self.links = links or NetlinkExtLinks()
        self.executor = bridge.Executor(self.links)
        self.apply_nft = apply_nft
        self.table = nft_table(config.instance)
        self._rules_lock = asyncio.Lock()
        self._cleanups: set[asyncio.Future[None]] = set()
        # set by the engine: a container record by id, name or prefix (NotFound otherwise)
        self.container_lookup: Callable[[str], Container] = _no_containers
        self.container_dir: Callable[[str], Path] = lambda cid: (
            config.data_root / "containers" / cid
        )
        self.dns = EmbeddedDns(self.records, lambda cid: self.container_dir(cid), dns_socket)
        self.proxies = proxies or LoopbackProxies()  # published ports on [::1]

    def _bridges(self) -> list[Network]:
        return [n for n in self.records.networks() if n.driver == "bridge"]

    def _attachable(self) -> list[Network]:
        return [n for n in self.records.networks() if n.driver in ATTACHABLE]

    def _in_rules(self, eps: list[Endpoint]) -> bool:
        """Whether the nft rules name any of `eps`: published ports, or a veth on a network
        whose containers must not talk to each other."""
        closed = {n.id for n in self._bridges() if not n.icc}
        return any(ep.ports or ep.network_id in closed for ep in eps)

    async def program(self) -> None:
        """Rewrite this daemon's nft table from the records."""
        async with self._rules_lock:
            await asyncio.to_thread(self._program)

    def _program(self) -> None:
        read = self.links.read_sysctl
        data = nftrules.RuleInput(
            tuple(self._bridges()),
            tuple(self.records.endpoints()),
            egress=read("net.ipv4.ip_forward") == "1",
            egress6=read("net.ipv6.conf.all.forwarding") == "1",
        )
        self.apply_nft(nftrules.render(self.table, data))

    def network_of(self, c: Container) -> Network | None:
        """The network a container's NetworkMode names; None for host/none/container: modes."""
        mode = c.host.network_mode
        if c.config.network_disabled or mode in ("host", "none") or mode.startswith("container:"):
            return None
        n = self.records.network("bridge" if mode == "default" else mode)
        return n if n.driver in ATTACHABLE else None

    def set_endpoint_config(
        self,
        cid: str,
        network: str,
        ip: str = "",
        aliases: tuple[str, ...] = (),
        ip6: str = "",
    ) -> None:
        """Record a container's EndpointSettings for a network (static IPv4 and IPv6,
        aliases); the create path calls this for NetworkingConfig.EndpointsConfig."""
        n = self.records.network(network)
        if ip:
            ipam.check_in_subnet(ip, ipam.parse_subnet(n.subnet), "ip address")
        if ip6 and not n.ipv6:
            raise InvalidParameter(f"invalid ipv6 address {ip6}: network {n.name} has no ipv6")
        if ip6:
            ipam.check_in_subnet(ip6, ipam6.parse_subnet6(n.subnet6), "ipv6 address")
        self.records.save_wanted(Wanted(cid, n.id, ip, tuple(aliases), time.time(), ip6))

    def _allocate(self, n: Network, c: Container, ifname: str, w: Wanted | None) -> Endpoint:
        first = ifname == "eth0"
        h = c.host
        reqs = ports.requests(h.port_bindings, c.config.exposed_ports, h.publish_all_ports)
        every = self.records.endpoints()
        if any(e.container_id == c.id and e.network_id == n.id for e in every):
            raise Conflict(f"container {c.id[:12]} is already attached to network {n.name}")
        ep = new_endpoint(
            n,
            c.id,
            c.name,
            [e for e in every if e.network_id == n.id],
            reqs if first and n.driver == "bridge" else [],  # Docker ignores -p elsewhere
            [m for e in every for m in e.ports],
            self.links.port_free,
            requested_ip=w.ip if w else "",
            aliases=w.aliases if w else (),
            ifname=ifname,
            requested_ip6=w.ip6 if w else "",
        )
        if n.driver in vlan.DRIVERS:
            ep = vlan.endpoint_on(n, ep)
        self.records.save_endpoint(ep)
        return ep

    async def _release(self, ep: Endpoint, program: bool = True, netns: str = "") -> None:
        """Free `ep`; `netns`: the container's, still alive (a macvlan child is removed there)."""
        try:
            await asyncio.to_thread(self.executor.run, plans.plan_leave(ep, netns))
        except Exception as exc:
            log.warning("removing %s of %s failed: %s", ep.host_ifname, ep.container_id[:12], exc)
        self.proxies.stop(ep.id)
        self.records.delete_endpoint(ep.id)
        if program and self._in_rules([ep]):
            await self.program()


def _no_containers(ref: str) -> Container:
    raise NotFound(f"No such container: {ref}")
