from __future__ import annotations

import pytest

from dockwright.errors import Conflict
from dockwright.network.endpoints import hosts_with_address, new_endpoint, next_ifname
from dockwright.network.model import Endpoint, Network
from dockwright.network.ports import PortRequest

pytestmark = pytest.mark.unit

NET = Network("n1", "front", "bridge", "dwbr-n1", "10.5.0.0/24", "10.5.0.1")


def make(n: Network = NET, used=(), ifname="eth0", ip="") -> Endpoint:
    return new_endpoint(
        n, "c" * 64, "web", used, [PortRequest("tcp", 80, "", 8080, 8080)], [],
        lambda *a: True, requested_ip=ip, aliases=("db",), ifname=ifname,
    )  # fmt: skip


def test_new_endpoint_fields():
    ep = make()
    assert (ep.ip, ep.prefixlen, ep.gateway, ep.mac) == (
        "10.5.0.2",
        24,
        "10.5.0.1",
        "02:42:0a:05:00:02",
    )
    assert ep.host_ifname.startswith("dwv") and len(ep.host_ifname) <= 15
    assert ep.ports[0].host_port == 8080 and ep.aliases == ("db",) and ep.default_route
    assert make(used=[ep]).ip == "10.5.0.3"
    assert make(ip="10.5.0.77").static_ip == "10.5.0.77"
    with pytest.raises(Conflict):
        make(used=[ep], ip="10.5.0.2")


def test_only_eth0_of_a_non_internal_network_routes_out():
    assert not make(ifname="eth1").default_route
    internal = Network("n2", "back", "bridge", "dwbr-n2", "10.6.0.0/24", "10.6.0.1", internal=True)
    assert not make(internal).default_route


def test_next_ifname_fills_gaps():
    eps = [make(ifname="eth0"), make(ifname="eth2")]
    assert next_ifname(eps) == "eth1" and next_ifname([]) == "eth0"


def test_hosts_file_gets_the_address_and_host_gateway():
    hosts = "127.0.0.1\tlocalhost\nhost-gateway\thost.docker.internal\n127.0.1.1\tabc\n"
    assert hosts_with_address(hosts, "10.5.0.2", "172.29.0.1") == (
        "127.0.0.1\tlocalhost\n172.29.0.1\thost.docker.internal\n10.5.0.2\tabc\n"
    )
