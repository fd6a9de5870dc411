"""A recording fake of `netlink_ext.ExtLinks` for unit tests of the network service."""

from __future__ import annotations

from dataclasses import dataclass, field

from dockwright.errors import SystemError_
from dockwright.kernel.netlink_fake import RecordingLinks


@dataclass
class RecordingExtLinks(RecordingLinks):
    """RecordingLinks plus the IPv6 and parent-link operations; `missing_kinds` are link
    kinds this fake kernel lacks (add_parent raises for them, as the real one does)."""

    missing_kinds: set[str] = field(default_factory=set)
    forwarding: bool = False  # what read_sysctl answers for the global forwarding knobs

    def add_address6(self, name: str, address: str, prefixlen: int) -> None:
        self._record("add_address6", name, address, prefixlen)

    def configure_v6(
        self, netns: str, ifname: str, ip6: str, prefixlen: int, gateway6: str
    ) -> None:
        self._record("configure_v6", netns, ifname, ip6, prefixlen, gateway6)

    def add_parent(self, kind: str, name: str, link: str, vlan_id: int) -> None:
        self._record("add_parent", kind, name, link, vlan_id)
        if kind in self.missing_kinds:
            raise SystemError_(f"create {kind} link {name}: the kernel lacks {kind} links")
        self.links.add(name)

    def read_sysctl(self, key: str) -> str:
        return self.sysctls.get(key, "1" if self.forwarding else "0")

    def set_sysctl_if_present(self, key: str, value: str) -> None:
        self.set_sysctl(key, value)

    def create_netns(self, path: str) -> None:
        self._record("create_netns", path)

    def remove_netns(self, path: str) -> None:
        self._record("remove_netns", path)
