"""Links, addresses and routes over rtnetlink (pyroute2), in the daemon's netns or a container's.

Every call is synchronous and short (a few netlink round trips); async callers run them in a
thread, which is also what lets `in_netns` move only that thread into a container's namespace.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
from pathlib import Path
from typing import Protocol

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from dockwright.errors import SystemError_
from dockwright.kernel.netns import entered

logging.getLogger("pyroute2").setLevel(logging.WARNING)  # its debug output drowns the daemon's


class Links(Protocol):
    """What the network executor needs from the kernel (recording fake: netlink_fake.py)."""

    def ensure_bridge(self, name: str, address: str, prefixlen: int, mtu: int) -> None: ...

    def delete_link(self, name: str) -> None: ...

    def delete_link_in(self, netns: str, name: str) -> None: ...

    def link_exists(self, name: str) -> bool: ...

    def add_veth(self, host: str, bridge: str, netns: str, mtu: int, ifname: str) -> None: ...

    def configure_container_side(
        self, netns: str, ifname: str, ip: str, prefixlen: int, gateway: str, mac: str
    ) -> None: ...

    def add_sublink(
        self, kind: str, parent: str, mode: str, netns: str, ifname: str, mtu: int
    ) -> None: ...

    def host_networks(self) -> list[str]: ...

    def set_sysctl(self, key: str, value: str) -> None: ...

    def port_free(self, proto: str, host_ip: str, port: int) -> bool: ...


_IPVLAN = {"l2": 0, "l3": 1, "l3s": 2}  # IPVLAN_MODE_* of linux/if_link.h


_LOOPBACK_INDEX = 1  # lo is always the first link of a network namespace


def _index(ipr: IPRoute, name: str) -> int | None:
    """The index of link `name` by one RTM_GETLINK (link_lookup dumps every link)."""
    try:
        reply = ipr.link("get", ifname=name)
    except NetlinkError as exc:
        if exc.code == errno.ENODEV:
            return None
        raise
    return int(reply[0]["index"]) if reply else None


def _fail(what: str, exc: NetlinkError) -> SystemError_:
    return SystemError_(f"{what}: {os.strerror(exc.code).lower()}")


class NetlinkLinks:
    """The real implementation over pyroute2's IPRoute."""

    def ensure_bridge(self, name: str, address: str, prefixlen: int, mtu: int) -> None:
        with IPRoute() as ipr:
            found = ipr.link_lookup(ifname=name)
            if not found:
                try:
                    ipr.link("add", ifname=name, kind="bridge", mtu=mtu)
                except NetlinkError as exc:
                    raise _fail(f"create bridge {name}", exc) from None
                found = ipr.link_lookup(ifname=name)
            index = found[0]
            have = {a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(index=index, family=2)}
            if address not in have:
                ipr.addr("add", index=index, address=address, prefixlen=prefixlen)
            ipr.link("set", index=index, state="up")

    def delete_link(self, name: str) -> None:
        with IPRoute() as ipr:
            try:
                ipr.link("del", ifname=name)
            except NetlinkError as exc:
                if exc.code not in (errno.ENODEV, errno.ENOENT):
                    raise _fail(f"delete link {name}", exc) from None

    def delete_link_in(self, netns: str, name: str) -> None:
        """Delete `name` inside `netns`; a link or netns already gone is not an error."""
        try:
            with entered(netns):
                ipr = IPRoute()
        except FileNotFoundError:
            return
        with ipr:
            try:
                ipr.link("del", ifname=name)
            except NetlinkError as exc:
                if exc.code not in (errno.ENODEV, errno.ENOENT):
                    raise _fail(f"delete link {name} in {netns}", exc) from None

    def link_exists(self, name: str) -> bool:
        with IPRoute() as ipr:
            return bool(ipr.link_lookup(ifname=name))

    def add_veth(self, host: str, bridge: str, netns: str, mtu: int, ifname: str) -> None:
        """A veth pair: `host` on `bridge`, its peer as `ifname` inside `netns`, both up; on
        failure nothing of it remains (and nothing that existed before is touched: the add is
        exclusive, so a name already taken fails with EEXIST). One request does it all (master
        and state are applied at creation): each netlink round trip costs the daemon CPU."""
        with IPRoute() as ipr, open(netns, "rb") as ns:
            master = _index(ipr, bridge)
            if master is None:
                raise SystemError_(f"attach veth {host} to {bridge}: no such bridge")
            peer = {"ifname": ifname, "net_ns_fd": ns.fileno(), "mtu": mtu, "state": "up"}
            try:
                ipr.link(
                    "add", ifname=host, kind="veth", mtu=mtu, master=master, state="up", peer=peer
                )
            except NetlinkError as exc:
                raise _fail(f"create veth {host} on {bridge}", exc) from None

    def add_sublink(
        self, kind: str, parent: str, mode: str, netns: str, ifname: str, mtu: int
    ) -> None:
        """A macvlan or ipvlan child of `parent` (in `mode`), created as `ifname` directly
        inside `netns`: the host never holds it, so no name there can clash."""
        attrs: dict[str, object] = {"mtu": mtu} if mtu else {}  # 0: the parent's
        if kind == "macvlan":
            attrs["macvlan_mode"] = mode
        else:
            attrs["ipvlan_mode"] = _IPVLAN[mode]
        with IPRoute() as ipr, open(netns, "rb") as ns:
            found = ipr.link_lookup(ifname=parent)
            if not found:
                raise SystemError_(f"create {kind} {ifname}: parent {parent} not found")
            try:
                ipr.link(
                    "add", ifname=ifname, kind=kind, link=found[0], net_ns_fd=ns.fileno(), **attrs
                )
            except NetlinkError as exc:
                raise _fail(f"create {kind} {ifname} on {parent}", exc) from None

    def configure_container_side(
        self, netns: str, ifname: str, ip: str, prefixlen: int, gateway: str, mac: str
    ) -> None:
        """Address `ifname` and bring it and lo up; with a `gateway`, route everything there."""
        with entered(netns):
            ipr = IPRoute()
        with ipr:
            try:
                eth0 = _index(ipr, ifname)
                if eth0 is None:
                    raise IndexError(f"no link {ifname}")
                if mac:  # an ipvlan child keeps its parent's
                    ipr.link("set", index=eth0, address=mac, state="up")
                else:
                    ipr.link("set", index=eth0, state="up")
                ipr.addr("add", index=eth0, address=ip, prefixlen=prefixlen)
                ipr.link("set", index=_LOOPBACK_INDEX, state="up")
                if gateway:
                    ipr.route("add", dst="default", gateway=gateway)
            except (NetlinkError, IndexError) as exc:
                raise SystemError_(f"configure {ifname} in {netns}: {exc}".lower()) from None

    def host_networks(self) -> list[str]:
        """Every IPv4 prefix the daemon's netns routes or holds an address in."""
        out: list[str] = []
        with IPRoute() as ipr:
            for r in ipr.get_routes(family=2):
                dst = r.get_attr("RTA_DST")
                if dst and r["dst_len"]:
                    out.append(f"{dst}/{r['dst_len']}")
            for a in ipr.get_addr(family=2):
                addr = ipaddress.IPv4Interface(f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}")
                if not addr.ip.is_loopback:
                    out.append(str(addr.network))
        return out

    def set_sysctl(self, key: str, value: str) -> None:
        Path("/proc/sys", *key.split(".")).write_text(value)

    def port_free(self, proto: str, host_ip: str, port: int) -> bool:
        """Whether nothing on the host listens there (a bind test, closed at once)."""
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host_ip or "0.0.0.0", port))
            except OSError:
                return False
        return True
