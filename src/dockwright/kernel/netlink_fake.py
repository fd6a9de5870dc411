"""A recording fake of `netlink.Links` for unit tests of the network executor and service."""

from __future__ import annotations

from dataclasses import dataclass, field

from dockwright.errors import SystemError_


@dataclass
class RecordingLinks:
    """Keeps the links it was asked to make; `fail_on` makes one operation kind raise."""

    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    links: set[str] = field(default_factory=set)
    host: list[str] = field(default_factory=list)  # what host_networks() answers
    busy_ports: set[tuple[str, int]] = field(default_factory=set)
    sysctls: dict[str, str] = field(default_factory=dict)
    fail_on: str = ""

    def _record(self, kind: str, *args: object) -> None:
        self.calls.append((kind, args))
        if kind == self.fail_on:
            raise SystemError_(f"{kind} failed (fake)")

    def ensure_bridge(self, name: str, address: str, prefixlen: int, mtu: int) -> None:
        self._record("ensure_bridge", name, address, prefixlen, mtu)
        self.links.add(name)

    def delete_link(self, name: str) -> None:
        self._record("delete_link", name)
        self.links.discard(name)

    def delete_link_in(self, netns: str, name: str) -> None:
        self._record("delete_link_in", netns, name)

    def link_exists(self, name: str) -> bool:
        return name in self.links

    def add_veth(self, host: str, bridge: str, netns: str, mtu: int, ifname: str) -> None:
        self._record("add_veth", host, bridge, netns, mtu, ifname)
        self.links.add(host)

    def configure_container_side(
        self, netns: str, ifname: str, ip: str, prefixlen: int, gateway: str, mac: str
    ) -> None:
        self._record("configure_container_side", netns, ifname, ip, prefixlen, gateway, mac)

    def add_sublink(
        self, kind: str, parent: str, mode: str, netns: str, ifname: str, mtu: int
    ) -> None:
        self._record("add_sublink", kind, parent, mode, netns, ifname, mtu)

    def host_networks(self) -> list[str]:
        return list(self.host)

    def set_sysctl(self, key: str, value: str) -> None:
        self._record("set_sysctl", key, value)
        self.sysctls[key] = value

    def port_free(self, proto: str, host_ip: str, port: int) -> bool:
        return (proto, port) not in self.busy_ports

    def kinds(self) -> list[str]:
        return [k for k, _ in self.calls]
