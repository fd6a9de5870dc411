"""More link operations for the network drivers: IPv6 addresses and routes, parent devices.

Kept apart from `netlink` (which holds the IPv4 bridge and veth basics) so each file keeps
one concern: what dual-stack networks add (addresses without duplicate address detection,
so they are usable at once), and the parent links a macvlan network may create itself (a
dummy when no parent is given, an 802.1q sub-interface for `parent=eth0.10`).
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Protocol

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from dockwright.errors import SystemError_
from dockwright.kernel.netlink import Links, NetlinkLinks, _fail
from dockwright.kernel.netns import create_named, entered, remove_named

IFA_F_NODAD = 0x02  # linux/if_addr.h: the address is usable at once, no DAD round
_AF_INET6 = socket.AF_INET6


class ExtLinks(Links, Protocol):
    """`Links` plus the dual-stack and parent-device operations (fake: netlink_ext_fake.py)."""

    def add_address6(self, name: str, address: str, prefixlen: int) -> None: ...

    def configure_v6(
        self, netns: str, ifname: str, ip6: str, prefixlen: int, gateway6: str
    ) -> None: ...

    def add_parent(self, kind: str, name: str, link: str, vlan_id: int) -> None: ...

    def read_sysctl(self, key: str) -> str: ...

    def set_sysctl_if_present(self, key: str, value: str) -> None: ...

    def create_netns(self, path: str) -> None:
        """A new network namespace held by a bind mount on `path`."""
        ...

    def remove_netns(self, path: str) -> None:
        """Release the namespace at `path` (idempotent)."""
        ...


class NetlinkExtLinks(NetlinkLinks):
    """The real implementation over pyroute2."""

    def create_netns(self, path: str) -> None:
        create_named(path)

    def remove_netns(self, path: str) -> None:
        remove_named(path)

    def add_address6(self, name: str, address: str, prefixlen: int) -> None:
        """`address` on host link `name` (a bridge's IPv6 gateway); already there is fine."""
        with IPRoute() as ipr:
            found = ipr.link_lookup(ifname=name)
            if not found:
                raise SystemError_(f"add {address} to {name}: no such link")
            have = {a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(index=found[0], family=10)}
            if address in have:
                return
            try:
                ipr.addr("add", index=found[0], address=address, prefixlen=prefixlen,
                         flags=IFA_F_NODAD)  # fmt: skip
            except NetlinkError as exc:
                raise _fail(f"add {address} to {name}", exc) from None

    def configure_v6(
        self, netns: str, ifname: str, ip6: str, prefixlen: int, gateway6: str
    ) -> None:
        """The container's IPv6 address on `ifname` (already up) and, with `gateway6`, its
        IPv6 default route."""
        with entered(netns):
            ipr = IPRoute()
        with ipr:
            try:
                index = ipr.link_lookup(ifname=ifname)[0]
                ipr.addr("add", index=index, address=ip6, prefixlen=prefixlen, flags=IFA_F_NODAD)
                if gateway6:
                    ipr.route("add", dst="::/0", gateway=gateway6, family=_AF_INET6)
            except (NetlinkError, IndexError) as exc:
                raise SystemError_(
                    f"configure ipv6 on {ifname} in {netns}: {exc}".lower()
                ) from None

    def add_parent(self, kind: str, name: str, link: str, vlan_id: int) -> None:
        """A host link a macvlan network hangs off: `dummy` (no `link`) or an 802.1q `vlan`
        of `link`; the error names the missing kernel support when the kind is unknown."""
        attrs: dict[str, object] = {}
        with IPRoute() as ipr:
            if ipr.link_lookup(ifname=name):  # made before this daemon restarted
                return
            if kind == "vlan":
                found = ipr.link_lookup(ifname=link)
                if not found:
                    raise SystemError_(f"create {name}: parent {link} not found")
                attrs = {"link": found[0], "vlan_id": vlan_id}
            try:
                ipr.link("add", ifname=name, kind=kind, **attrs)
                ipr.link("set", index=ipr.link_lookup(ifname=name)[0], state="up")
            except NetlinkError as exc:
                if exc.code == errno.EOPNOTSUPP:
                    module = "8021q" if kind == "vlan" else kind
                    raise SystemError_(
                        f"create {kind} link {name}: the kernel lacks {kind} links "
                        f"(module {module})"
                    ) from None
                raise _fail(f"create {kind} link {name}", exc) from None

    def read_sysctl(self, key: str) -> str:
        """The value of sysctl `key` (dotted), "" when this kernel lacks it."""
        try:
            return Path("/proc/sys", *key.split(".")).read_text().strip()
        except FileNotFoundError:
            return ""

    def set_sysctl_if_present(self, key: str, value: str) -> None:
        """As set_sysctl, for a knob older kernels lack (IPv6 force_forwarding, 6.17+)."""
        try:
            self.set_sysctl(key, value)
        except FileNotFoundError:
            pass

    def port_free(self, proto: str, host_ip: str, port: int) -> bool:
        """As NetlinkLinks.port_free, for IPv6 host addresses too."""
        if ":" not in host_ip:
            return super().port_free(proto, host_ip, port)
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        with socket.socket(_AF_INET6, kind) as s:
            try:
                s.bind((host_ip, port))
            except OSError:
                return False
        return True
