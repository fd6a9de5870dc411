"""The networks service: the one owner of network and endpoint records and their kernel state.

The containers service calls `attach` after the runtime created a container (its netns exists
and its pid is known) and before it starts, and `detach` when the process exited. Kernel work
runs in threads; allocations are computed and recorded on the event loop, so two starts never
get the same address. Every nft change rewrites this daemon's whole table from the records.
A container joins the network its NetworkMode names plus the ones `connect` recorded for it
("wanted"), in that order, as eth0, eth1…; only eth0 publishes ports and holds the default route.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dockwright.engine.events import EventBus
from dockwright.errors import Conflict, Forbidden, InvalidParameter, NotFound
from dockwright.kernel import nft
from dockwright.kernel.netlink import Links, NetlinkLinks
from dockwright.kernel.netns import udp_socket_in
from dockwright.network import bridge, ipam, nftrules, ports, vlan
from dockwright.network.defaults import default_is_stale, default_network, user_network
from dockwright.network.dns import SocketFactory
from dockwright.network.endpoints import hosts_with_address, new_endpoint, next_ifname
from dockwright.network.filters import matches
from dockwright.network.model import Endpoint, Network, NetworkCreate, PortMapping, Wanted
from dockwright.network.naming import default_bridge, nft_table
from dockwright.network.ports import parse_port_key
from dockwright.network.records import NetworkRecords
from dockwright.network.resolvers import EmbeddedDns
from dockwright.store.db import Database
from dockwright.types.config import DaemonConfig
from dockwright.types.container import Container

__all__ = [
    "Attachment",
    "ContainerNetworking",
    "Endpoint",
    "Network",
    "NetworkCreate",
    "NetworkService",
    "PortMapping",
    "parse_port_key",
]

log = logging.getLogger("dockwright.networks")

PREDEFINED = ("bridge", "host", "none")
ATTACHABLE = ("bridge", *vlan.DRIVERS)  # drivers whose networks give containers endpoints


@dataclass(frozen=True)
class Attachment:
    network: Network
    endpoint: Endpoint | None  # None: configured, not attached (the container is not running)
    static_ip: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerNetworking:
    """What inspect and ps show about a container's networks."""

    mode: str
    attachments: tuple[Attachment, ...] = ()
    exposed: tuple[str, ...] = ()  # ExposedPorts keys, shown with null bindings

    @property
    def live(self) -> tuple[Attachment, ...]:
        return tuple(a for a in self.attachments if a.endpoint is not None)


class NetworkService:
    def __init__(
        self,
        config: DaemonConfig,
        db: Database,
        events: EventBus,
        links: Links | None = None,
        apply_nft: Callable[[str], None] = nft.apply,
        dns_socket: SocketFactory = udp_socket_in,
    ) -> None:
        self.config = config
        self.records = NetworkRecords(db)
        self.events = events
        self.links = links or NetlinkLinks()
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

    # -- daemon lifecycle --

    async def open(self, running: Callable[[str], bool]) -> None:
        """Build the default network and every bridge; drop endpoints of containers that are no
        longer running; program the rules; serve DNS again for the running ones."""
        if self.config.ip_forward:
            await asyncio.to_thread(self.links.set_sysctl, "net.ipv4.ip_forward", "1")
        for ep in self.records.endpoints():
            if not running(ep.container_id):
                await self._release(ep, program=False)
        await asyncio.to_thread(self._ensure_predefined)
        for n in self._bridges():
            await asyncio.to_thread(self.executor.run, bridge.plan_network(n))
        await self.program()
        for cid in {e.container_id for e in self.records.endpoints()}:
            try:
                await self.dns.ensure(cid, self.container_lookup(cid).state.pid)
            except Exception as exc:  # a container that died meanwhile: its exit releases it
                log.warning("embedded dns for %s not restored: %s", cid[:12], exc)

    def _ensure_predefined(self) -> None:
        nets = {n.name: n for n in self.records.networks()}
        name = self.config.bridge or default_bridge(self.config.instance)
        old = nets.get("bridge")
        if old is not None and not self.records.endpoints(network_id=old.id):
            exists = self.links.link_exists(old.bridge)
            hosts = self.links.host_networks()
            if default_is_stale(old, name, self.config.bip, exists, hosts):
                self.records.delete_network(old.id)
                if old.bridge != name:
                    self.links.delete_link(old.bridge)
                self.records.insert_network(self._default_network(name, old.id))
        elif old is None:
            self.records.insert_network(self._default_network(name, secrets.token_hex(32)))
        for other, driver in (("host", "host"), ("none", "null")):
            if other not in nets:
                self.records.insert_network(
                    Network(secrets.token_hex(32), other, driver, "", "", "", time.time())
                )

    def _default_network(self, name: str, nid: str) -> Network:
        if self.config.bip:
            iface = ipaddress.IPv4Interface(self.config.bip)
            subnet, gateway = str(iface.network), str(iface.ip)
        else:
            taken = self.links.host_networks() + [n.subnet for n in self._bridges()]
            subnet = ipam.choose_subnet(ipam.default_candidates(self.config.instance), taken)
            gateway = ipam.gateway_of(ipam.parse_subnet(subnet))
        return default_network(nid, name, subnet, gateway)

    async def close(self, any_running: bool) -> None:
        """With no container left running, remove the bridges and the nft table (the records
        stay; `open` builds them again)."""
        await self.dns.close()
        await asyncio.gather(*self._cleanups, return_exceptions=True)
        if any_running:
            return
        for n in self._bridges():
            await asyncio.to_thread(self.executor.run, bridge.plan_remove_network(n))
        await asyncio.to_thread(self.apply_nft, nftrules.delete(self.table))

    def _bridges(self) -> list[Network]:
        return [n for n in self.records.networks() if n.driver == "bridge"]

    def _attachable(self) -> list[Network]:
        return [n for n in self.records.networks() if n.driver in ATTACHABLE]

    async def program(self) -> None:
        """Rewrite this daemon's nft table from the records."""
        async with self._rules_lock:
            data = nftrules.RuleInput(tuple(self._bridges()), tuple(self.records.endpoints()))
            await asyncio.to_thread(self.apply_nft, nftrules.render(self.table, data))

    # -- containers --

    def network_of(self, c: Container) -> Network | None:
        """The network a container's NetworkMode names; None for host/none/container: modes."""
        mode = c.host.network_mode
        if c.config.network_disabled or mode in ("host", "none") or mode.startswith("container:"):
            return None
        n = self.records.network("bridge" if mode == "default" else mode)
        return n if n.driver in ATTACHABLE else None

    def validate_mode(self, mode: str) -> None:
        """For container create: InvalidParameter("network X not found") unless `mode` is a
        built-in mode or names an existing network (400, not 404: on a 404 the docker CLI would
        try to pull the image)."""
        if mode in ("", "default", "bridge", "host", "none") or mode.startswith("container:"):
            return
        try:
            self.records.network(mode)
        except NotFound:
            raise InvalidParameter(f"network {mode} not found") from None

    def _targets(self, c: Container) -> list[tuple[Network, Wanted | None]]:
        """The networks `c` joins at start, its NetworkMode's first."""
        primary = self.network_of(c)
        if primary is None:
            return []
        wanted = {w.network_id: w for w in self.records.wanted(container_id=c.id)}
        nets = {n.id: n for n in self._attachable()}
        out = [(primary, wanted.pop(primary.id, None))]
        return out + [(nets[w.network_id], w) for w in wanted.values() if w.network_id in nets]

    def set_endpoint_config(
        self, cid: str, network: str, ip: str = "", aliases: tuple[str, ...] = ()
    ) -> None:
        """Record a container's EndpointSettings for a network (static IPv4, aliases); the
        create path calls this for NetworkingConfig.EndpointsConfig."""
        n = self.records.network(network)
        if ip:
            ipam.check_in_subnet(ip, ipam.parse_subnet(n.subnet), "ip address")
        self.records.save_wanted(Wanted(cid, n.id, ip, tuple(aliases), time.time()))

    def forget(self, cid: str) -> None:
        """The container was removed: drop what was configured for it (a removal hook)."""
        self.records.delete_wanted(cid)

    async def attach(self, c: Container, pid: int, hosts_path: Path) -> None:
        """Give the container (process `pid`) its endpoints: addresses, veths, route, ports."""
        eps: list[Endpoint] = []
        netns = f"/proc/{pid}/ns/net"
        try:
            for i, (n, w) in enumerate(self._targets(c)):
                eps.append(self._allocate(n, c, f"eth{i}", w))
                await asyncio.to_thread(self.executor.run, _plan_join(n, eps[-1], netns))
            if any(ep.ports for ep in eps):
                await self.program()
            if eps:
                gateway = next((n.gateway for n in self._bridges() if n.default), "")
                await asyncio.to_thread(_patch_hosts, hosts_path, eps[0].ip, gateway)
                await self.dns.ensure(c.id, pid)
        except BaseException:
            self.dns.stop(c.id)
            for ep in eps:
                await self._release(ep, netns=netns)
            raise

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
        )
        if n.driver in vlan.DRIVERS:
            ep = vlan.endpoint_on(n, ep)
        self.records.save_endpoint(ep)
        return ep

    async def detach(self, cid: str) -> None:
        """Release every endpoint of container `cid` (its process has exited).

        Addresses and ports are free when this returns; the veths (whose deletion costs the
        kernel ~15 ms each, and which mostly vanish with the netns anyway) are removed by a
        task of this service that `close` waits for."""
        self.dns.stop(cid)
        eps = self.records.endpoints(container_id=cid)
        for ep in eps:
            self.records.delete_endpoint(ep.id)
        if any(ep.ports for ep in eps):
            await self.program()
        if eps:
            task = asyncio.ensure_future(self._unplumb(eps))
            self._cleanups.add(task)
            task.add_done_callback(self._cleanups.discard)

    async def _unplumb(self, eps: list[Endpoint]) -> None:
        for ep in eps:
            try:
                await asyncio.to_thread(self.executor.run, bridge.plan_leave(ep))
            except Exception as exc:
                log.warning("removing %s failed: %s", ep.host_ifname, exc)

    async def _release(self, ep: Endpoint, program: bool = True, netns: str = "") -> None:
        """Free `ep`; `netns`: the container's, still alive (a macvlan child is removed there)."""
        try:
            await asyncio.to_thread(self.executor.run, _plan_leave(ep, netns))
        except Exception as exc:
            log.warning("removing %s of %s failed: %s", ep.host_ifname, ep.container_id[:12], exc)
        self.records.delete_endpoint(ep.id)
        if program and ep.ports:
            await self.program()

    def networking(self, c: Container) -> ContainerNetworking:
        eps = {e.network_id: e for e in self.records.endpoints(container_id=c.id)}
        try:
            targets = self._targets(c)
        except NotFound:  # its network was removed
            targets = []
        atts = [
            Attachment(n, eps.get(n.id), w.ip if w else "", w.aliases if w else ())
            for n, w in targets
        ]
        if c.host.network_mode in ("host", "none"):  # shown as Docker does, without addresses
            atts = [Attachment(self.records.network(c.host.network_mode), None)]
        return ContainerNetworking(c.host.network_mode, tuple(atts), c.config.exposed_ports)

    # -- the /networks API --

    def networks(self, filters: dict[str, list[str]] | None = None) -> list[Network]:
        used = {e.network_id for e in self.records.endpoints()}
        return [
            n for n in self.records.networks() if matches(n, filters or {}, lambda n: n.id in used)
        ]

    def get(self, ref: str) -> Network:
        return self.records.network(ref)

    def endpoints_of(self, n: Network) -> list[Endpoint]:
        return self.records.endpoints(network_id=n.id)

    async def create(self, req: NetworkCreate) -> Network:
        if req.driver not in ATTACHABLE:
            raise NotFound(f'plugin "{req.driver}" not found')
        if req.name in PREDEFINED:
            raise Forbidden(f"{req.name} is a pre-defined network and cannot be created")
        hosts = await asyncio.to_thread(self.links.host_networks)
        n = await asyncio.to_thread(self._new_network, req, hosts, self._attachable())
        self.records.insert_network(n)
        try:
            await asyncio.to_thread(self.executor.run, bridge.plan_network(n))
            await self.program()
        except BaseException:
            self.records.delete_network(n.id)
            raise
        self.events.publish("network", "create", n.id, {"name": n.name, "type": n.driver})
        return n

    def _new_network(self, req: NetworkCreate, hosts: list[str], others: list[Network]) -> Network:
        """The record of a new network (in a thread: a macvlan parent is looked up)."""
        nid = secrets.token_hex(32)
        if req.driver == "bridge":
            return user_network(nid, req, others, hosts)
        return vlan.vlan_network(nid, req, others, hosts, self.links.link_exists)

    async def prune(self, filters: dict[str, list[str]]) -> list[str]:
        used = {e.network_id for e in self.records.endpoints()}
        gone: list[str] = []
        for n in self.records.networks():
            if n.name in PREDEFINED or n.id in used:
                continue
            if matches(n, {k: v for k, v in filters.items() if k == "label"}, lambda n: False):
                await self.remove(n.id)
                gone.append(n.name)
        return gone

    async def connect(
        self, ref: str, container: str, ip: str = "", aliases: tuple[str, ...] = ()
    ) -> None:
        """Join `container` to one more network: now when it runs, and at every start."""
        n = self.records.network(ref)
        c = self.container_lookup(container)
        primary = self.network_of(c)
        if n.driver not in ATTACHABLE or primary is None:
            raise Forbidden(f"container {c.name} cannot be connected to network {n.name}")
        if primary.id == n.id or self.records.wanted(c.id, n.id):
            raise Forbidden(f"endpoint with name {c.name} already exists in network {n.name}")
        self.set_endpoint_config(c.id, n.id, ip, aliases)
        if c.running and c.state.pid:
            try:
                await self._join_running(c, n)
            except BaseException:
                self.records.delete_wanted(c.id, n.id)
                raise
        self.events.publish(
            "network", "connect", n.id, {"container": c.id, "name": n.name, "type": n.driver}
        )

    async def _join_running(self, c: Container, n: Network) -> None:
        mine = self.records.endpoints(container_id=c.id)
        w = self.records.wanted(c.id, n.id)
        ep = self._allocate(n, c, next_ifname(mine), w[0] if w else None)
        netns = f"/proc/{c.state.pid}/ns/net"
        try:
            await asyncio.to_thread(self.executor.run, _plan_join(n, ep, netns))
            await self.dns.ensure(c.id, c.state.pid)
        except BaseException:
            await self._release(ep, netns=netns)
            raise

    async def disconnect(self, ref: str, container: str, force: bool = False) -> None:
        n = self.records.network(ref)
        c = self.container_lookup(container)
        eps = [e for e in self.records.endpoints(container_id=c.id) if e.network_id == n.id]
        if not eps and not self.records.wanted(c.id, n.id):
            raise Forbidden(f"container {c.id} is not connected to network {n.name}")
        primary = self.network_of(c)
        if primary is not None and primary.id == n.id:
            raise Forbidden(
                f"container {c.name} cannot be disconnected from its primary network {n.name}"
            )
        self.records.delete_wanted(c.id, n.id)
        netns = f"/proc/{c.state.pid}/ns/net" if c.running and c.state.pid else ""
        for ep in eps:
            await self._release(ep, netns=netns)
        self.dns.stop_unless_needed(c.id)
        self.events.publish(
            "network", "disconnect", n.id, {"container": c.id, "name": n.name, "type": n.driver}
        )

    async def remove(self, ref: str) -> None:
        n = self.records.network(ref)
        if n.name in PREDEFINED:
            raise Forbidden(f"{n.name} is a pre-defined network and cannot be removed")
        if self.records.endpoints(network_id=n.id):
            raise Forbidden(
                f"error while removing network: network {n.name} id {n.id} has active endpoints"
            )
        for w in self.records.wanted(network_id=n.id):
            self.records.delete_wanted(w.container_id, n.id)
        self.records.delete_network(n.id)
        await asyncio.to_thread(self.executor.run, bridge.plan_remove_network(n))
        await self.program()
        self.events.publish("network", "destroy", n.id, {"name": n.name, "type": n.driver})


def _plan_join(n: Network, ep: Endpoint, netns: str) -> list[bridge.Op]:
    if n.driver in vlan.DRIVERS:
        return vlan.plan_join(n, ep, netns)
    return bridge.plan_join(n, ep, netns)


def _plan_leave(ep: Endpoint, netns: str) -> list[bridge.Op]:
    if not ep.host_ifname and netns:  # a macvlan/ipvlan child in a netns that lives on
        return vlan.plan_leave(ep, netns)
    return bridge.plan_leave(ep)


def _no_containers(ref: str) -> Container:
    raise NotFound(f"No such container: {ref}")


def _patch_hosts(path: Path, ip: str, host_gateway: str) -> None:
    if path.exists():
        path.write_text(hosts_with_address(path.read_text(), ip, host_gateway))
