"""Dual-stack networks and inter-container isolation, as pure logic and over the fakes."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from dockwright.api.schema.networks import (
    endpoint_json,
    network_json,
    parse_endpoint_config,
    parse_network_create,
    ports_json,
    top_level_json,
)
from dockwright.engine.events import EventBus
from dockwright.engine.networks import Attachment, ContainerNetworking, NetworkService
from dockwright.errors import Conflict, Forbidden, InvalidParameter
from dockwright.kernel.netlink_ext_fake import RecordingExtLinks
from dockwright.network import ipam6, vlan
from dockwright.network.bridge import Op, plan_join, plan_network
from dockwright.network.defaults import user_network
from dockwright.network.dnswire import TYPE_A, TYPE_AAAA, answer, parse_query
from dockwright.network.endpoints import hosts_with_address, new_endpoint
from dockwright.network.model import Network, NetworkCreate, PortMapping
from dockwright.network.nftrules import RuleInput, render
from dockwright.network.ports import PortRequest
from dockwright.network.proxy import LoopbackProxies
from dockwright.store.db import Database
from dockwright.testing.proxy_fake import FakeListen
from dockwright.types.config import DaemonConfig
from dockwright.types.container import Container, ContainerConfig, ContainerState, HostSettings

pytestmark = pytest.mark.unit

V6 = NetworkCreate("v6", subnet="10.60.0.0/24", enable_ipv6=True, subnet6="fd00:60::/64")


def dual() -> Network:
    return user_network("a" * 64, V6, [], [])


def test_ipam6_allocates_in_order_and_honours_requests():
    assert ipam6.allocate6("fd00::/64", "fd00::1", []) == "fd00::2"
    assert ipam6.allocate6("fd00::/64", "fd00::1", ["fd00::2"]) == "fd00::3"
    assert ipam6.allocate6("fd00::/64", "fd00::1", [], "fd00::00a0") == "fd00::a0"
    assert ipam6.allocate6("fd00::/64", "fd00::1", [], ip_range="fd00::100/120") == "fd00::100"
    with pytest.raises(Conflict, match="already in use"):
        ipam6.allocate6("fd00::/64", "fd00::1", ["fd00::5"], "fd00::5")
    with pytest.raises(InvalidParameter, match="does not belong"):
        ipam6.allocate6("fd00::/64", "fd00::1", [], "fd01::5")
    with pytest.raises(Conflict, match="no available"):
        ipam6.allocate6("fd00::/126", "fd00::1", ["fd00::2", "fd00::3"])


def test_ula_subnet_is_stable_unique_local_64():
    a, b = ipam6.ula_subnet("x"), ipam6.ula_subnet("y")
    assert a == ipam6.ula_subnet("x") and a != b
    assert a.startswith("fd") and a.endswith("::/64")


def test_user_network_dual_stack_and_its_errors():
    n = dual()
    assert (n.subnet6, n.gateway6, n.ipv6) == ("fd00:60::/64", "fd00:60::1", True)
    auto = user_network("b" * 64, NetworkCreate("auto", enable_ipv6=True), [], [])
    assert auto.subnet6 == ipam6.ula_subnet("b" * 64) and auto.gateway6.endswith("::1")
    assert not user_network("c" * 64, NetworkCreate("v4"), [], []).ipv6
    with pytest.raises(Forbidden, match="overlaps"):
        user_network("d" * 64, replace(V6, subnet="10.61.0.0/24"), [n], [])
    with pytest.raises(InvalidParameter, match="enable ipv6"):
        user_network("e" * 64, replace(V6, enable_ipv6=False), [], [])
    with pytest.raises(InvalidParameter, match="gateway fd01::1 does not belong"):
        user_network("f" * 64, replace(V6, gateway6="fd01::1"), [], [])


def test_endpoint_gets_both_families_and_hosts_lists_both():
    n = dual()
    held = [new_endpoint(n, "c1", "one", [], [], [], lambda *a: True)]
    ep = new_endpoint(n, "c2", "two", held, [], [], lambda *a: True, requested_ip6="")
    assert (ep.ip, ep.ip6, ep.prefixlen6, ep.gateway6) == (
        "10.60.0.3",
        "fd00:60::3",
        64,
        "fd00:60::1",
    )
    fixed = new_endpoint(n, "c3", "x", held, [], [], lambda *a: True, requested_ip6="fd00:60::99")
    assert fixed.ip6 == fixed.static_ip6 == "fd00:60::99"
    hosts = hosts_with_address("127.0.0.1\tlocalhost\n127.0.1.1\tabc\n", ep.ip, "", ep.ip6)
    assert hosts.endswith("10.60.0.3\tabc\nfd00:60::3\tabc\n")


def test_plans_address_the_bridge_and_the_container_in_ipv6():
    n = dual()
    ep = new_endpoint(n, "c1", "one", [], [], [], lambda *a: True)
    assert plan_network(n)[-3:] == [
        Op("set_sysctl", (f"net.ipv6.conf.{n.bridge}.disable_ipv6", "0")),
        Op("set_sysctl_if_present", (f"net.ipv6.conf.{n.bridge}.force_forwarding", "1")),
        Op("add_address6", (n.bridge, "fd00:60::1", 64)),
    ]
    ns = "/proc/7/ns/net"
    assert plan_join(n, ep, ns)[-1] == Op("configure_v6", (ns, "eth0", ep.ip6, 64, "fd00:60::1"))
    internal = replace(ep, default_route=False)
    assert plan_join(n, internal, ns)[-1].args[-1] == ""  # no IPv6 default route either
    mv = replace(n, driver="macvlan", bridge="", options={"parent": "eth1"})
    child = vlan.endpoint_on(mv, ep)
    assert vlan.plan_join(mv, child, ns)[-1] == Op(
        "configure_v6", (ns, "eth0", ep.ip6, 64, "fd00:60::1")
    )  # macvlan children are dual-stack too


def test_dns_answers_aaaa_from_ipv6_and_a_from_ipv4():
    def q(qtype: int) -> bytes:
        return (
            struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0)
            + b"\x03web\x00"
            + struct.pack("!HH", qtype, 1)
        )

    ips = ["10.60.0.2", "fd00:60::2"]
    a = answer(parse_query(q(TYPE_A)), ips)
    aaaa = answer(parse_query(q(TYPE_AAAA)), ips)
    assert struct.unpack("!H", a[6:8])[0] == 1 and a.endswith(bytes([10, 60, 0, 2]))
    assert struct.unpack("!H", aaaa[6:8])[0] == 1
    assert aaaa.endswith(bytes.fromhex("fd000060000000000000000000000002"))
    assert struct.unpack("!HH", aaaa[-28:-24]) == (0xC00C, TYPE_AAAA)
    only_v4 = answer(parse_query(q(TYPE_AAAA)), ["10.60.0.2"])
    assert struct.unpack("!H", only_v4[6:8])[0] == 0  # NOERROR, no data: never forwarded


def test_ip6_rules_publish_masquerade_and_isolate():
    n = dual()
    ports = (PortMapping("tcp", 80, "", 8080), PortMapping("tcp", 81, "127.0.0.1", 8081))
    ep = replace(new_endpoint(n, "c1", "one", [], [], [], lambda *a: True), ports=ports)
    v4 = Network("n" * 64, "bridge", "bridge", "dw0", "172.29.0.0/16", "172.29.0.1")
    text = render("t", RuleInput((v4, n), (ep,)))
    ip6 = text[text.index("table ip6 t {\n") : text.index("table bridge t {}")]
    assert f"tcp dport 8080 dnat to [{ep.ip6}]:80" in ip6
    assert "8081" not in ip6  # an IPv4 host address is not published over IPv6
    assert f'ip6 saddr fd00:60::/64 oifname != "{n.bridge}" masquerade' in ip6
    assert f'ip6 saddr fd00:60::/64 oifname "{n.bridge}" ct status dnat masquerade' in ip6
    assert "dw0" not in ip6  # an IPv4-only network has no IPv6 rules


def test_icc_false_drops_bridged_frames_between_its_veths_only():
    n = replace(dual(), options={"com.docker.network.bridge.enable_icc": "false"})
    assert not n.icc and dual().icc
    a = new_endpoint(n, "c1", "one", [], [], [], lambda *x: True)
    b = new_endpoint(n, "c2", "two", [a], [], [], lambda *x: True)
    lone = render("t", RuleInput((n,), (a,)))
    assert "table bridge t {\n}" in lone  # one container: nothing to keep apart
    text = render("t", RuleInput((n,), (a, b)))
    pair = ", ".join(f'"{v}"' for v in sorted((a.host_ifname, b.host_ifname)))
    rule = f"iifname {{ {pair} }} oifname {{ {pair} }} meta protocol {{ ip, ip6 }} drop"
    assert rule in text


def test_isolation_lets_published_ports_through_but_not_out_of_internal():
    a = Network("a" * 64, "a", "bridge", "bra", "10.1.0.0/24", "10.1.0.1")
    b = Network("b" * 64, "b", "bridge", "brb", "10.2.0.0/24", "10.2.0.1", internal=True)
    text = render("t", RuleInput((a, b), (), egress=False))
    fwd = text[text.index("chain forward") : text.index("chain ports")]
    lines = [line.strip() for line in fwd.splitlines()]
    accept = lines.index("ct status dnat accept")
    assert lines.index('iifname "brb" oifname != "brb" drop') < accept
    assert lines.index('iifname "bra" oifname { "brb" } drop') > accept
    egress = 'iifname { "bra", "brb" } oifname != { "bra", "brb" } drop'
    assert lines.index(egress) > accept  # replies to published ports still leave
    assert egress not in render("t", RuleInput((a, b), (), egress=True))


def test_schema_dual_stack_create_inspect_and_endpoint():
    body = {
        "Name": "v6",
        "EnableIPv6": True,
        "IPAM": {"Config": [{"Subnet": "fd00:60::/64"}, {"Subnet": "10.60.0.0/24"}]},
    }
    req = parse_network_create(body)
    assert (req.enable_ipv6, req.subnet6, req.subnet) == (True, "fd00:60::/64", "10.60.0.0/24")
    two = {"Name": "x", "IPAM": {"Config": [{"Subnet": "fd00::/64"}, {"Subnet": "fd01::/64"}]}}
    with pytest.raises(InvalidParameter, match="one IPv6 pool"):
        parse_network_create(two)
    n = dual()
    ep = replace(
        new_endpoint(n, "c" * 64, "web", [], [], [], lambda *a: True),
        ports=(PortMapping("tcp", 80, "", 8080),),
    )
    out = network_json(n, [ep])
    assert out["EnableIPv6"] is True
    assert out["IPAM"]["Config"][1] == {"Subnet": "fd00:60::/64", "Gateway": "fd00:60::1"}
    assert out["Containers"][ep.container_id]["IPv6Address"] == f"{ep.ip6}/64"
    att = Attachment(n, ep, static_ip6="fd00:60::2")
    got = endpoint_json(att)
    assert (got["GlobalIPv6Address"], got["GlobalIPv6PrefixLen"], got["IPv6Gateway"]) == (
        ep.ip6,
        64,
        "fd00:60::1",
    )
    assert got["IPAMConfig"] == {"IPv6Address": "fd00:60::2"}
    net = ContainerNetworking("v6", (att,))
    assert [b["HostIp"] for b in ports_json(net)["80/tcp"]] == ["0.0.0.0", "::"]
    default = ContainerNetworking("default", (Attachment(replace(n, default=True), ep),))
    assert top_level_json(default)["GlobalIPv6Address"] == ep.ip6
    cfg = {"IPAMConfig": {"IPv4Address": "10.60.0.9", "IPv6Address": "fd00:60::9"}}
    assert parse_endpoint_config(cfg) == ("10.60.0.9", (), "fd00:60::9")


class Harness:
    def __init__(self, tmp: Path, **config: object) -> None:
        self.links = RecordingExtLinks(host=["192.0.2.0/24"])
        self.scripts: list[str] = []
        cfg = DaemonConfig(data_root=tmp / "data", bip="10.9.0.1/24", **config)
        self.listen = FakeListen()
        self.svc = NetworkService(
            cfg,
            Database(":memory:"),
            EventBus(),
            self.links,
            self.scripts.append,
            self.sock,
            LoopbackProxies(self.listen),
        )
        self.containers: dict[str, Container] = {}
        self.svc.container_lookup = self.containers.__getitem__
        self.hosts = tmp / "hosts"
        self.hosts.write_text("127.0.1.1\tabc\n")

    def sock(self, netns: str, host: str, port: int):
        import socket

        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        return s

    def container(self, cid: str, mode: str = "default") -> Container:
        c = Container(
            cid, f"name-{cid}", 0.0, "img", ContainerConfig(), HostSettings(network_mode=mode),
            ContainerState(status="running", pid=100),
        )  # fmt: skip
        self.containers[cid] = c
        return c


async def _service_dual_stack(tmp_path: Path) -> None:
    h = Harness(tmp_path, ipv6=True, fixed_cidr_v6="fd00:9::/64", icc=False)
    await h.svc.open(lambda cid: False)
    default = h.svc.get("bridge")
    assert (default.subnet6, default.gateway6, default.icc) == ("fd00:9::/64", "fd00:9::1", False)
    assert ("add_address6", (default.bridge, "fd00:9::1", 64)) in h.links.calls
    n = await h.svc.create(V6)
    a, b = h.container("a", "v6"), h.container("b", "v6")
    h.svc.set_endpoint_config("b", "v6", ip6="fd00:60::50")  # as a create's EndpointsConfig
    await h.svc.create(NetworkCreate("plain", subnet="10.61.0.0/24"))
    with pytest.raises(InvalidParameter, match="has no ipv6"):
        h.svc.set_endpoint_config("a", "plain", ip6="fd00:1::1")
    with pytest.raises(InvalidParameter, match="does not belong"):
        h.svc.set_endpoint_config("a", "bridge", ip6="fd00:1::1")
    await h.svc.attach(a, 100, h.hosts)
    await h.svc.attach(b, 101, h.hosts)
    assert h.svc.dns.lookup("a", "name-b") == ["10.60.0.3", "fd00:60::50"]
    assert "fd00:60::2\tabc" in h.hosts.read_text()
    scripts = len(h.scripts)
    c = h.container("c")  # on the default network, icc off: its veth joins the drop rule
    await h.svc.attach(c, 102, h.hosts)
    await h.svc.attach(h.container("d"), 103, h.hosts)
    assert len(h.scripts) == scripts + 2 and "meta protocol { ip, ip6 } drop" in h.scripts[-1]
    await h.svc.detach("c")
    assert "meta protocol" not in h.scripts[-1]
    assert n.ipv6
    await h.svc.close(any_running=False)
    assert "delete table ip6" in h.scripts[-1] and "delete table bridge" in h.scripts[-1]


def test_service_dual_stack_and_icc(tmp_path):
    asyncio.run(_service_dual_stack(tmp_path))


def test_the_idle_default_network_follows_ipv6_and_icc_config(tmp_path):
    h = Harness(tmp_path)
    asyncio.run(h.svc.open(lambda cid: False))
    before = h.svc.get("bridge")
    assert not before.ipv6 and before.icc
    h.svc.config = replace(h.svc.config, ipv6=True, icc=False)
    asyncio.run(h.svc.open(lambda cid: False))
    after = h.svc.get("bridge")
    assert after.id == before.id and after.subnet == before.subnet
    assert after.subnet6 == ipam6.ula_subnet(h.svc.config.instance) and not after.icc


def test_port_requests_for_ipv6_host_addresses():
    from dockwright.network.ports import requests

    got = requests({"80/tcp": [{"HostIp": "::1", "HostPort": "80"}]}, (), False)
    assert got == [PortRequest("tcp", 80, "::1", 80, 80)]
