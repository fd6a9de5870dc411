"""The embedded DNS of user-defined networks over the records: who gets a resolver, what it
answers. Docker's rule: a container on at least one user-defined network resolves the names of
the containers (name, short id, aliases) that share such a network with it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from dockwright.network import resolvconf
from dockwright.network.dns import DnsServer, SocketFactory
from dockwright.network.records import NetworkRecords


class EmbeddedDns:
    def __init__(
        self,
        records: NetworkRecords,
        container_dir: Callable[[str], Path],
        open_socket: SocketFactory,
    ) -> None:
        self.records = records
        self.container_dir = container_dir
        self.server = DnsServer(self.lookup, open_socket)

    def user_networks_of(self, cid: str) -> set[str]:
        defaults = {n.id for n in self.records.networks() if n.default}
        return {e.network_id for e in self.records.endpoints(container_id=cid)} - defaults

    async def ensure(self, cid: str, pid: int) -> None:
        """Serve DNS in `cid`'s netns (and point its resolv.conf there) when it is on a
        user-defined network; a no-op otherwise or when already served."""
        if self.server.running(cid) or not pid or not self.user_networks_of(cid):
            return
        path = self.container_dir(cid) / "resolv.conf"
        text = await asyncio.to_thread(_read, path)
        await self.server.start(cid, pid, resolvconf.upstream_of(text))
        if text:
            await asyncio.to_thread(path.write_text, resolvconf.embedded(text))

    def stop(self, cid: str) -> None:
        self.server.stop(cid)

    def stop_unless_needed(self, cid: str) -> None:
        if not self.user_networks_of(cid):
            self.server.stop(cid)

    async def close(self) -> None:
        await self.server.close()

    def lookup(self, cid: str, name: str) -> list[str] | None:
        """Addresses (IPv4 and IPv6) of the containers called `name` on the user networks
        `cid` is on; None (forward upstream) when there are none."""
        nets = self.user_networks_of(cid)
        if not nets:
            return None
        ips = [
            ip
            for e in self.records.endpoints()
            if e.network_id in nets
            and name in (e.container_name.lower(), e.container_id[:12], *e.aliases)
            for ip in (e.ip, e.ip6)
            if ip
        ]
        return ips or None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
