"""The real `kernel.netlink.Links` in throwaway namespaces: one plays the host, one a container.

Everything happens inside the two namespaces (removed at the end), so the host's own links and
routes are never touched.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from dockwright.errors import SystemError_
from dockwright.kernel.netlink import NetlinkLinks
from dockwright.kernel.netlink_ext import NetlinkExtLinks
from dockwright.kernel.netns import entered, same_netns, udp_socket_in

pytestmark = pytest.mark.integration


@pytest.fixture
def namespaces():
    names = [f"dwt{secrets.token_hex(4)}" for _ in range(2)]
    for name in names:
        subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield [f"/run/netns/{n}" for n in names]
    finally:
        for name in names:
            subprocess.run(["ip", "netns", "del", name], check=False)


def inside(path: str, fn, *args):
    """Run fn in a fresh thread that has entered `path` (the test's thread never moves)."""

    def run():
        with entered(path):
            return fn(*args)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def scenario(host: str, ctr: str) -> None:
    links = NetlinkLinks()
    links.ensure_bridge("dwtbr0", "10.99.0.1", 24, 1500)
    links.ensure_bridge("dwtbr0", "10.99.0.1", 24, 1500)  # idempotent
    links.set_sysctl("net.ipv4.conf.dwtbr0.route_localnet", "1")
    links.add_veth("dwtv0", "dwtbr0", ctr, 1500, "eth0")
    links.configure_container_side(ctr, "eth0", "10.99.0.2", 24, "10.99.0.1", "02:42:0a:63:00:02")
    assert "10.99.0.0/24" in links.host_networks()
    assert links.link_exists("dwtv0") and links.link_exists("dwtbr0")
    with pytest.raises(SystemError_, match="create veth dwtv0"):
        links.add_veth("dwtv0", "dwtbr0", ctr, 1500, "eth1")  # the name is taken
    with entered(ctr):
        server = socket.socket()
    with server, socket.socket() as client:
        server.bind(("10.99.0.2", 8080))
        server.listen()
        client.settimeout(5)
        client.connect(("10.99.0.2", 8080))
        peer, addr = server.accept()
        peer.close()
        assert addr[0] == "10.99.0.1"  # from the bridge's address, through the veth
    dns = udp_socket_in(ctr, "127.0.0.11", 53)
    dns.close()
    links.delete_link("dwtv0")
    links.delete_link("dwtv0")  # already gone: not an error
    assert not links.link_exists("dwtv0")
    links.delete_link("dwtbr0")
    assert not same_netns(host, ctr)


def test_links_in_throwaway_namespaces(namespaces):
    host, ctr = namespaces
    inside(host, scenario, host, ctr)
    route = subprocess.run(
        ["ip", "-n", ctr.rsplit("/", 1)[1], "route"], capture_output=True, text=True
    ).stdout
    assert route == ""  # its eth0 went away with the veth pair


def test_port_free_is_a_bind_test():
    links = NetlinkLinks()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert not links.port_free("tcp", "127.0.0.1", taken)
    assert links.port_free("tcp", "127.0.0.1", taken)


def scenario6(ctr: str) -> None:
    links = NetlinkExtLinks()
    links.ensure_bridge("dwtbr6", "10.98.0.1", 24, 1500)
    links.add_address6("dwtbr6", "fd98::1", 64)
    links.add_address6("dwtbr6", "fd98::1", 64)  # idempotent
    links.add_veth("dwtv6", "dwtbr6", ctr, 1500, "eth0")
    links.configure_container_side(ctr, "eth0", "10.98.0.2", 24, "10.98.0.1", "02:42:0a:62:00:02")
    links.configure_v6(ctr, "eth0", "fd98::2", 64, "fd98::1")
    with entered(ctr):
        server = socket.socket(socket.AF_INET6)
    with server, socket.socket(socket.AF_INET6) as client:
        server.bind(("fd98::2", 8080))  # usable at once: no duplicate address detection
        server.listen()
        client.settimeout(5)
        client.connect(("fd98::2", 8080))
        peer, addr = server.accept()
        peer.close()
        assert addr[0] == "fd98::1"
    with pytest.raises(SystemError_, match="no such link"):
        links.add_address6("dwtnone", "fd97::1", 64)
    for kind, link, vid, module in (("dummy", "", 0, "dummy"), ("vlan", "dwtbr6", 5, "8021q")):
        name = "dwtbr6.5" if kind == "vlan" else "dwtdm0"
        try:
            links.add_parent(kind, name, link, vid)
        except SystemError_ as exc:  # this kernel lacks the kind: the message names its module
            assert f"the kernel lacks {kind} links (module {module})" in exc.message
            assert not links.link_exists(name)
        else:
            assert links.link_exists(name)
            links.add_parent(kind, name, link, vid)  # there already: fine
            links.delete_link(name)
    assert links.read_sysctl("net.ipv6.conf.dwtbr6.disable_ipv6") == "0"
    assert links.read_sysctl("net.ipv6.no.such.knob") == ""
    links.set_sysctl_if_present("net.ipv6.no.such.knob", "1")  # not an error
    links.delete_link("dwtv6")
    links.delete_link("dwtbr6")


def test_dual_stack_and_parent_links_in_throwaway_namespaces(namespaces):
    host, ctr = namespaces
    inside(host, scenario6, ctr)
    ns = ctr.rsplit("/", 1)[1]
    route = subprocess.run(["ip", "-n", ns, "-6", "route"], capture_output=True, text=True)
    assert "fd98" not in route.stdout  # gone with the veth pair


def test_port_free_for_ipv6_addresses():
    links = NetlinkExtLinks()
    with socket.socket(socket.AF_INET6) as busy:
        busy.bind(("::1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert not links.port_free("tcp", "::1", taken)
    assert links.port_free("tcp", "::1", taken)
