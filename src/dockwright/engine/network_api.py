"""The /networks API of the networks service: list, inspect, create, prune, connect,
disconnect, remove; each a record change and the kernel work that goes with it."""

from __future__ import annotations

import asyncio
import secrets

from dockwright.engine.network_base import ATTACHABLE, PREDEFINED, NetworkBase
from dockwright.errors import Forbidden, NotFound
from dockwright.network import plans, vlan
from dockwright.network.defaults import user_network
from dockwright.network.endpoints import next_ifname
from dockwright.network.filters import matches
from dockwright.network.model import Endpoint, Network, NetworkCreate
from dockwright.types.container import Container


class NetworkApi(NetworkBase):
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
            await asyncio.to_thread(self.executor.run, plans.plan_network(n))
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
            labels = {k: v for k, v in filters.items() if k in ("label", "label!")}
            if matches(n, labels, lambda n: False):
                await self.remove(n.id)
                gone.append(n.name)
        self.events.publish("network", "prune", "", {"reclaimed": "0"})  # as dockerd reports
        return gone

    async def connect(
        self,
        ref: str,
        container: str,
        ip: str = "",
        aliases: tuple[str, ...] = (),
        ip6: str = "",
    ) -> None:
        """Join `container` to one more network: now when it runs, and at every start."""
        n = self.records.network(ref)
        c = self.container_lookup(container)
        primary = self.network_of(c)
        if n.driver not in ATTACHABLE or primary is None:
            raise Forbidden(f"container {c.name} cannot be connected to network {n.name}")
        if primary.id == n.id or self.records.wanted(c.id, n.id):
            raise Forbidden(f"endpoint with name {c.name} already exists in network {n.name}")
        self.set_endpoint_config(c.id, n.id, ip, aliases, ip6)
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
            await asyncio.to_thread(self.executor.run, plans.plan_join(n, ep, netns))
            if self._in_rules([ep]):
                await self.program()
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
        await asyncio.to_thread(self.executor.run, plans.plan_remove_network(n))
        await self.program()
        self.events.publish("network", "destroy", n.id, {"name": n.name, "type": n.driver})
