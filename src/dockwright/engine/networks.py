"""The networks service: the one owner of network and endpoint records and their kernel state.

The containers service asks for a `sandbox` (a network namespace made ahead, bind-mounted
under the runtime root) for a container that joins networks, `join`s it while the runtime
creates the container in that namespace, and `activate`s the endpoints once the pid is known,
before the process starts; `attach` does both for an existing process (connect); `detach`
releases everything when the process exited. Kernel work
runs in threads; allocations are computed and recorded on the event loop, so two starts never
get the same address. Every nft change rewrites this daemon's whole table from the records.
A container joins the network its NetworkMode names plus the ones `connect` recorded for it
("wanted"), in that order, as eth0, eth1…; only eth0 publishes ports and holds the default route.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dockwright.engine.network_api import NetworkApi
from dockwright.engine.network_base import log
from dockwright.errors import InvalidParameter, NotFound
from dockwright.network import bridge, ipam, ipam6, nftrules, plans
from dockwright.network.defaults import default_is_stale, default_network
from dockwright.network.endpoints import hosts_with_address
from dockwright.network.model import Endpoint, Network, NetworkCreate, PortMapping, Wanted
from dockwright.network.naming import default_bridge
from dockwright.network.ports import parse_port_key
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


@dataclass(frozen=True)
class Attachment:
    network: Network
    endpoint: Endpoint | None  # None: configured, not attached (the container is not running)
    static_ip: str = ""
    aliases: tuple[str, ...] = ()
    static_ip6: str = ""


@dataclass(frozen=True)
class ContainerNetworking:
    """What inspect and ps show about a container's networks."""

    mode: str
    attachments: tuple[Attachment, ...] = ()
    exposed: tuple[str, ...] = ()  # ExposedPorts keys, shown with null bindings

    @property
    def live(self) -> tuple[Attachment, ...]:
        return tuple(a for a in self.attachments if a.endpoint is not None)


class NetworkService(NetworkApi):
    """The composition: daemon lifecycle and container attach/detach here, the /networks API
    in NetworkApi, shared state and helpers in NetworkBase."""

    # -- daemon lifecycle --

    async def open(self, running: Callable[[str], bool]) -> None:
        """Build the default network and every bridge; drop endpoints of containers that are no
        longer running; program the rules; serve DNS and [::1] ports again for the running
        ones."""
        if self.config.ip_forward:  # both families, as Docker does with IPv6 enabled
            await asyncio.to_thread(self.links.set_sysctl, "net.ipv4.ip_forward", "1")
            await asyncio.to_thread(self.links.set_sysctl, "net.ipv6.conf.all.forwarding", "1")
        for ep in self.records.endpoints():
            if not running(ep.container_id):
                await self._release(ep, program=False)
        await asyncio.to_thread(self._remove_stale_sandboxes, running)
        await asyncio.to_thread(self._ensure_predefined)
        for n in self._attachable():  # bridges, and parents a network made (after a reboot)
            await asyncio.to_thread(self.executor.run, plans.plan_network(n))
        await self.program()
        for ep in self.records.endpoints():
            await self.proxies.start(ep)
        for cid in {e.container_id for e in self.records.endpoints()}:
            try:
                await self.dns.ensure(cid, self.container_lookup(cid).state.pid)
            except Exception as exc:  # a container that died meanwhile: its exit releases it
                log.warning("embedded dns for %s not restored: %s", cid[:12], exc)

    def _remove_stale_sandboxes(self, running: Callable[[str], bool]) -> None:
        """Namespaces made for containers that exited while the daemon was down."""
        root = self.sandbox_path("x").parent
        for entry in root.iterdir() if root.is_dir() else ():
            if not running(entry.name):
                self.links.remove_netns(str(entry))

    def _ensure_predefined(self) -> None:
        nets = {n.name: n for n in self.records.networks()}
        name = self.config.bridge or default_bridge(self.config.instance)
        old = nets.get("bridge")
        if old is not None and not self.records.endpoints(network_id=old.id):
            want = self._default_network(name, old.id, old.subnet, old.gateway)
            exists = self.links.link_exists(old.bridge)
            hosts = self.links.host_networks()
            if default_is_stale(old, want, self.config.bip, exists, hosts):
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

    def _default_network(self, name: str, nid: str, subnet: str = "", gateway: str = "") -> Network:
        """The default network the config asks for (on `subnet` when given)."""
        if not subnet:
            subnet, gateway = self._default_pool()
        cfg, subnet6 = self.config, ""
        if cfg.ipv6:
            subnet6 = cfg.fixed_cidr_v6 or ipam6.ula_subnet(cfg.instance or "default")
        return default_network(nid, name, subnet, gateway, subnet6, cfg.icc)

    def _default_pool(self) -> tuple[str, str]:
        """(subnet, gateway) of a new default network: --bip, else a pool the host lacks."""
        if self.config.bip:
            iface = ipaddress.IPv4Interface(self.config.bip)
            return str(iface.network), str(iface.ip)
        taken = self.links.host_networks() + [n.subnet for n in self._bridges()]
        subnet = ipam.choose_subnet(ipam.default_candidates(self.config.instance), taken)
        return subnet, ipam.gateway_of(ipam.parse_subnet(subnet))

    async def close(self, any_running: bool) -> None:
        """With no container left running, remove the bridges and the nft table (the records
        stay; `open` builds them again)."""
        await self.dns.close()
        await self.proxies.close()
        await asyncio.gather(*self._cleanups, return_exceptions=True)
        if any_running:
            return
        for n in self._bridges():
            await asyncio.to_thread(self.executor.run, bridge.plan_remove_network(n))
        await asyncio.to_thread(self.apply_nft, nftrules.delete(self.table))

    # -- containers --

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

    def forget(self, cid: str) -> None:
        """The container was removed: drop what was configured for it (a removal hook)."""
        self.records.delete_wanted(cid)

    def sandbox_path(self, cid: str) -> Path:
        return self.config.state_dir / "netns" / cid

    async def sandbox(self, c: Container) -> str | None:
        """A network namespace made ahead for `c` when it joins networks (else None), so its
        endpoints can be plumbed while the runtime creates the container in it."""
        if self.network_of(c) is None:  # no primary network: no targets at all (see _targets)
            return None
        path = self.sandbox_path(c.id)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(self.links.create_netns, str(path))
        return str(path)

    async def join(self, c: Container, netns: str) -> list[Endpoint]:
        """Allocate `c`'s endpoints and plumb them into `netns` (veths, addresses, routes); on
        failure what was made is released."""
        eps: list[Endpoint] = []
        try:
            for i, (n, w) in enumerate(self._targets(c)):
                eps.append(self._allocate(n, c, f"eth{i}", w))
                await asyncio.to_thread(self.executor.run, plans.plan_join(n, eps[-1], netns))
        except BaseException:
            for ep in eps:
                await self._release(ep, netns=netns)
            raise
        return eps

    async def activate(self, c: Container, pid: int, eps: list[Endpoint], hosts_path: Path) -> None:
        """The rest of an attach once the process exists: rules, ports, /etc/hosts, DNS."""
        try:
            if self._in_rules(eps):
                await self.program()
            if eps:
                await self.proxies.start(eps[0])
                gateway = next((n.gateway for n in self._bridges() if n.default), "")
                await asyncio.to_thread(_patch_hosts, hosts_path, eps[0], gateway)
                await self.dns.ensure(c.id, pid)
        except BaseException:
            self.dns.stop(c.id)
            for ep in eps:
                await self._release(ep, netns=f"/proc/{pid}/ns/net")
            raise

    async def attach(self, c: Container, pid: int, hosts_path: Path) -> None:
        """Give the container (process `pid`) its endpoints: addresses, veths, route, ports."""
        eps = await self.join(c, f"/proc/{pid}/ns/net")
        await self.activate(c, pid, eps, hosts_path)

    async def detach(self, cid: str) -> None:
        """Release every endpoint of container `cid` (its process has exited).

        Addresses and ports are free when this returns; the veths (whose deletion costs the
        kernel ~15 ms each, and which mostly vanish with the netns anyway) are removed by a
        task of this service that `close` waits for."""
        self.dns.stop(cid)
        await asyncio.to_thread(self.links.remove_netns, str(self.sandbox_path(cid)))
        eps = self.records.endpoints(container_id=cid)
        for ep in eps:
            self.proxies.stop(ep.id)
            self.records.delete_endpoint(ep.id)
        if self._in_rules(eps):
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

    def networking(self, c: Container) -> ContainerNetworking:
        eps = {e.network_id: e for e in self.records.endpoints(container_id=c.id)}
        try:
            targets = self._targets(c)
        except NotFound:  # its network was removed
            targets = []
        atts = [
            Attachment(
                n, eps.get(n.id), w.ip if w else "", w.aliases if w else (), w.ip6 if w else ""
            )
            for n, w in targets
        ]
        if c.host.network_mode in ("host", "none"):  # shown as Docker does, without addresses
            atts = [Attachment(self.records.network(c.host.network_mode), None)]
        return ContainerNetworking(c.host.network_mode, tuple(atts), c.config.exposed_ports)


def _patch_hosts(path: Path, ep: Endpoint, host_gateway: str) -> None:
    if path.exists():
        path.write_text(hosts_with_address(path.read_text(), ep.ip, host_gateway, ep.ip6))
