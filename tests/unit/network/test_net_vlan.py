"""macvlan and ipvlan networks: option checks, plans, and the service over the link fake."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from dockwright.engine.events import EventBus
from dockwright.engine.networks import NetworkCreate, NetworkService
from dockwright.errors import Forbidden, InvalidParameter, SystemError_
from dockwright.kernel.netlink_ext_fake import RecordingExtLinks as RecordingLinks
from dockwright.network import bridge, vlan
from dockwright.network.model import Endpoint, Network
from dockwright.network.proxy import LoopbackProxies
from dockwright.store.db import Database
from dockwright.testing.proxy_fake import FakeListen
from dockwright.types.config import DaemonConfig
from dockwright.types.container import Container, ContainerConfig, ContainerState, HostSettings

pytestmark = pytest.mark.unit


def check(driver: str, **options: str) -> None:
    vlan.check_options(driver, options)


def test_options_are_checked_with_dockers_words():
    check("macvlan", parent="eth1")
    check("ipvlan", parent="eth1", ipvlan_mode="l3")
    with pytest.raises(InvalidParameter, match="ipvlan mode 'l4' is not valid, 'l2' mode"):
        check("ipvlan", parent="eth1", ipvlan_mode="l4")
    with pytest.raises(InvalidParameter, match="macvlan mode 'x' is not valid, 'bridge' mode"):
        check("macvlan", parent="eth1", macvlan_mode="x")


def test_the_parent_to_make_dummy_or_8021q_or_none():
    def exists(name: str) -> bool:
        return name == "eth1"

    assert vlan.parent_to_make("macvlan", "f" * 64, "eth1", exists) == ""
    assert vlan.parent_to_make("macvlan", "f" * 64, "", exists) == "dm-ffffffffffff"
    assert vlan.parent_to_make("ipvlan", "f" * 64, "", exists) == "di-ffffffffffff"
    assert vlan.parent_to_make("macvlan", "f" * 64, "eth1.10", exists) == "eth1.10"
    for missing in ("e9", "e9.10", "eth1.0", "eth1.4095", "eth1.x"):
        with pytest.raises(
            InvalidParameter, match=f"^-o parent interface was not found on the host: {missing}$"
        ):
            vlan.parent_to_make("macvlan", "f" * 64, missing, exists)


def test_plans_of_a_made_parent():
    req = NetworkCreate("n", "macvlan", "10.60.0.0/24", options={"parent": "eth1.10"})
    tagged = vlan.vlan_network("f" * 64, req, [], [], lambda name: name == "eth1")
    assert tagged.made_parent == "eth1.10" and tagged.options["parent"] == "eth1.10"
    assert vlan.plan_network(tagged) == [bridge.Op("add_parent", ("vlan", "eth1.10", "eth1", 10))]
    assert vlan.plan_remove_network(tagged) == [bridge.Op("delete_link", ("eth1.10",))]
    plain = vlan.vlan_network("a" * 64, replace(req, options={}), [], [], lambda name: False)
    assert plain.options["parent"] == plain.made_parent == "dm-aaaaaaaaaaaa"
    assert vlan.plan_network(plain) == [
        bridge.Op("add_parent", ("dummy", "dm-aaaaaaaaaaaa", "", 0))
    ]
    assert vlan.plan_network(network("macvlan")) == []


def network(driver: str, **options: str) -> Network:
    req = NetworkCreate("n", driver, "10.60.0.0/24", options={"parent": "eth1", **options})
    return vlan.vlan_network("f" * 64, req, [], [], lambda name: True)


def endpoint(ifname: str = "eth0") -> Endpoint:
    return Endpoint(
        "e" * 64, "f" * 64, "c", "name", "dwveeee", "10.60.0.2", 24, "10.60.0.1",
        "02:42:0a:3c:00:02", ifname=ifname,
    )  # fmt: skip


def test_one_network_of_a_driver_per_parent():
    first = network("macvlan")
    req = NetworkCreate("n2", "macvlan", "10.61.0.0/24", options={"parent": "eth1"})
    with pytest.raises(
        InvalidParameter, match=f"dm-{first.id[:12]} is already using parent interface eth1"
    ):
        vlan.vlan_network("a" * 64, req, [first], [], lambda name: True)
    other = NetworkCreate("n3", "ipvlan", "10.62.0.0/24", options={"parent": "eth1"})
    assert vlan.vlan_network("b" * 64, other, [first], [], lambda name: True).driver == "ipvlan"


def test_macvlan_record_and_join_plan():
    n = network("macvlan")
    assert (n.driver, n.bridge, n.gateway) == ("macvlan", "", "10.60.0.1")
    assert bridge.plan_network(n) == [] and bridge.plan_remove_network(n) == []
    ep = vlan.endpoint_on(n, endpoint())
    assert ep.host_ifname == "" and bridge.plan_leave(ep) == []
    assert vlan.plan_join(n, ep, "/proc/7/ns/net") == [
        bridge.Op("add_sublink", ("macvlan", "eth1", "bridge", "/proc/7/ns/net", "eth0", 0)),
        bridge.Op(
            "configure_container_side",
            ("/proc/7/ns/net", "eth0", "10.60.0.2", 24, "10.60.0.1", "02:42:0a:3c:00:02"),
        ),
    ]


def test_ipvlan_keeps_the_parents_mac_and_l3_has_no_gateway_route():
    l2 = vlan.endpoint_on(network("ipvlan"), endpoint())
    assert (l2.mac, l2.default_route) == ("", True)
    n = network("ipvlan", ipvlan_mode="l3", **{"com.docker.network.driver.mtu": "1400"})
    l3 = vlan.endpoint_on(n, endpoint())
    add, conf = vlan.plan_join(n, l3, "ns")
    assert add.args == ("ipvlan", "eth1", "l3", "ns", "eth0", 1400)
    assert conf.args[4:] == ("", "")


def _dns(netns: str, host: str, port: int) -> socket.socket:
    """Stands in for the resolver's socket inside the container's netns."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    return s


class Harness:
    def __init__(self, tmp: Path) -> None:
        self.links = RecordingLinks(host=["192.0.2.0/24"], links={"eth1"})
        config = DaemonConfig(data_root=tmp / "data", bip="10.9.0.1/24")
        self.listen = FakeListen()
        self.svc = NetworkService(
            config,
            Database(":memory:"),
            EventBus(),
            self.links,
            lambda script: None,
            _dns,
            LoopbackProxies(self.listen),
        )
        self.hosts = tmp / "hosts"
        self.hosts.write_text("127.0.0.1\tlocalhost\n127.0.1.1\tabc\n")

    def container(self, cid: str, mode: str, running: bool = True) -> Container:
        bindings = {"80/tcp": [{"HostPort": "8080"}]}
        c = Container(
            cid, f"name-{cid}", 0.0, "img", ContainerConfig(),
            HostSettings(network_mode=mode, port_bindings=bindings),  # type: ignore[arg-type]
            ContainerState(status="running" if running else "created", pid=100),
        )  # fmt: skip
        self.svc.container_lookup = lambda ref: c
        return c


def test_service_creates_attaches_and_removes_a_macvlan_network(tmp_path):
    asyncio.run(_macvlan_service(tmp_path))


async def _macvlan_service(tmp_path):
    h = Harness(tmp_path)
    await h.svc.open(lambda cid: False)
    with pytest.raises(InvalidParameter, match="not found on the host: eth9"):
        await h.svc.create(NetworkCreate("m", "macvlan", options={"parent": "eth9"}))
    opened = len(h.links.calls)
    n = await h.svc.create(
        NetworkCreate("m", "macvlan", "10.60.0.0/24", options={"parent": "eth1"})
    )
    assert n.driver == "macvlan" and h.links.calls[opened:] == []  # nothing on the host
    c = h.container("a", "m")
    await h.svc.attach(c, 100, h.hosts)
    (ep,) = h.svc.endpoints_of(n)
    assert (ep.ip, ep.ports, ep.host_ifname) == ("10.60.0.2", (), "")
    assert ("add_sublink", ("macvlan", "eth1", "bridge", "/proc/100/ns/net", "eth0", 0)) in (
        h.links.calls
    )
    with pytest.raises(Forbidden, match="already exists in network m"):
        await h.svc.connect("m", "a")
    await h.svc.detach("a")
    b = h.container("b", "default")
    await h.svc.attach(b, 100, h.hosts)
    await h.svc.connect("m", "b")  # running: a child made as eth1 in its netns
    assert h.links.calls[-2][0] == "add_sublink" and h.links.calls[-2][1][4] == "eth1"
    await h.svc.disconnect("m", "b")
    assert h.links.calls[-1] == ("delete_link_in", ("/proc/100/ns/net", "eth1"))
    await h.svc.detach("b")
    await h.svc.close(any_running=True)  # waits for the veth of b to go
    before = len(h.links.calls)
    await h.svc.remove("m")
    assert h.links.calls[before:] == []  # the parent is left as it was
    assert h.links.links == {"eth1", h.svc.get("bridge").bridge}


def test_service_makes_and_removes_a_parent_or_fails_cleanly(tmp_path):
    asyncio.run(_made_parents(tmp_path))


async def _made_parents(tmp_path):
    h = Harness(tmp_path)
    await h.svc.open(lambda cid: False)
    n = await h.svc.create(NetworkCreate("m", "macvlan", options={"parent": "eth1.7"}))
    assert ("add_parent", ("vlan", "eth1.7", "eth1", 7)) in h.links.calls
    assert "eth1.7" in h.links.links
    await h.svc.remove(n.id)
    assert "eth1.7" not in h.links.links
    h.links.missing_kinds = {"dummy"}
    with pytest.raises(SystemError_, match="the kernel lacks dummy links"):
        await h.svc.create(NetworkCreate("nop", "macvlan"))
    assert [x.name for x in h.svc.networks()] == ["bridge", "host", "none"]
    assert h.links.links == {"eth1", h.svc.get("bridge").bridge}
