"""The networks service over an in-memory database, the recording link fake and an nft recorder."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from dockwright.engine.events import EventBus
from dockwright.engine.networks import NetworkCreate, NetworkService
from dockwright.errors import Conflict, Forbidden, InvalidParameter, NotFound
from dockwright.kernel.netlink_ext_fake import RecordingExtLinks as RecordingLinks
from dockwright.network.ipam import default_candidates
from dockwright.network.proxy import LoopbackProxies
from dockwright.store.db import Database
from dockwright.testing.proxy_fake import FakeListen
from dockwright.types.config import DaemonConfig
from dockwright.types.container import Container, ContainerConfig, ContainerState, HostSettings

pytestmark = pytest.mark.unit


class Harness:
    def __init__(self, tmp: Path, bip: str = "") -> None:
        self.db = Database(":memory:")
        self.links = RecordingLinks(host=["192.0.2.0/24", "172.29.0.0/16"])
        self.scripts: list[str] = []
        config = DaemonConfig(data_root=tmp / "data", bip=bip)
        self.dns_sockets: list[str] = []
        self.listen = FakeListen()
        self.svc = NetworkService(
            config,
            self.db,
            EventBus(),
            self.links,
            self.scripts.append,
            self.dns_socket,
            LoopbackProxies(self.listen),
        )
        self.containers: dict[str, Container] = {}
        self.svc.container_lookup = self.containers.__getitem__
        self.hosts = tmp / "hosts"
        self.hosts.write_text("127.0.0.1\tlocalhost\n127.0.1.1\tabc\n")

    def dns_socket(self, netns: str, host: str, port: int) -> socket.socket:
        """Stands in for a socket inside the container's netns: one on loopback."""
        self.dns_sockets.append(netns)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        return s

    def container(self, cid: str, mode: str = "default", **host: object) -> Container:
        c = Container(
            cid, f"name-{cid}", 0.0, "img", ContainerConfig(exposed_ports=("80/tcp",)),
            HostSettings(network_mode=mode, **host),  # type: ignore[arg-type]
            ContainerState(status="running", pid=100),
        )  # fmt: skip
        self.containers[cid] = c
        return c


def run(coro):
    return asyncio.run(coro)


def test_open_builds_the_default_network_on_a_free_subnet(tmp_path):
    h = Harness(tmp_path)
    pools = default_candidates(h.svc.config.instance)
    h.links.host.append(pools[0])  # the host already routes the first choice
    run(h.svc.open(lambda cid: False))
    names = {n.name: n for n in h.svc.networks()}
    assert set(names) == {"bridge", "host", "none"}
    bridge = names["bridge"]
    assert bridge.subnet == pools[1] and bridge.gateway == pools[1].replace(".0/24", ".1")
    assert bridge.bridge.startswith("dw-") and bridge.bridge in h.links.links
    assert h.links.sysctls == {
        f"net.ipv4.conf.{bridge.bridge}.route_localnet": "1",
        f"net.ipv4.conf.{bridge.bridge}.forwarding": "1",
    }
    assert "ip_forward" not in str(h.links.calls)
    assert f'oifname != "{bridge.bridge}" masquerade' in h.scripts[-1]


def test_attach_allocates_plumbs_publishes_and_detach_releases(tmp_path):
    h = Harness(tmp_path, bip="10.9.0.1/24")
    run(h.svc.open(lambda cid: False))
    bindings = {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    a = h.container("a", port_bindings=bindings)
    run(h.svc.attach(a, 100, h.hosts))
    run(h.svc.attach(h.container("b"), 101, tmp_path / "missing"))
    net = h.svc.networking(a)
    (att,) = net.attachments
    assert (att.endpoint.ip, att.endpoint.gateway, att.endpoint.prefixlen) == (
        "10.9.0.2",
        "10.9.0.1",
        24,
    )
    assert att.endpoint.mac == "02:42:0a:09:00:02"
    assert "10.9.0.2\tabc" in h.hosts.read_text()
    assert "ip daddr 127.0.0.1 tcp dport 8080 dnat to 10.9.0.2:80" in h.scripts[-1]
    assert h.svc.networking(h.containers["b"]).attachments[0].endpoint.ip == "10.9.0.3"
    run(h.svc.detach("a"))
    assert "dport 8080" not in h.scripts[-1]
    assert h.svc.networking(a).live == ()
    assert [x.network.name for x in h.svc.networking(a).attachments] == ["bridge"]
    run(h.svc.attach(h.container("c"), 102, h.hosts))  # the released address is reused
    assert h.svc.networking(h.containers["c"]).attachments[0].endpoint.ip == "10.9.0.2"


def test_a_failed_join_leaves_no_record_and_no_link(tmp_path):
    h = Harness(tmp_path, bip="10.9.0.1/24")
    run(h.svc.open(lambda cid: False))
    h.links.fail_on = "configure_container_side"
    with pytest.raises(Exception, match="fake"):
        run(h.svc.attach(h.container("a"), 100, h.hosts))
    assert h.svc.records.endpoints() == []
    assert not any(name.startswith("dwv") for name in h.links.links)


def test_port_already_allocated(tmp_path):
    h = Harness(tmp_path, bip="10.9.0.1/24")
    run(h.svc.open(lambda cid: False))
    bindings = {"80/tcp": [{"HostPort": "8080"}]}
    run(h.svc.attach(h.container("a", port_bindings=bindings), 100, h.hosts))
    with pytest.raises(Conflict, match="port is already allocated"):
        run(h.svc.attach(h.container("b", port_bindings=bindings), 101, h.hosts))
    assert [e.container_id for e in h.svc.records.endpoints()] == ["a"]


def test_restart_drops_endpoints_of_stopped_containers(tmp_path):
    h = Harness(tmp_path, bip="10.9.0.1/24")
    run(h.svc.open(lambda cid: False))
    run(h.svc.attach(h.container("a"), 100, h.hosts))
    run(h.svc.attach(h.container("b"), 101, h.hosts))
    run(h.svc.open(lambda cid: cid == "b"))
    assert [e.container_id for e in h.svc.records.endpoints()] == ["b"]
    run(h.svc.close(any_running=True))
    assert h.svc.networks()[0].bridge in h.links.links
    run(h.svc.close(any_running=False))
    assert h.links.links == {e.host_ifname for e in h.svc.records.endpoints()}
    assert h.scripts[-1].startswith("table ip dockwright-") and "delete table" in h.scripts[-1]


def test_user_networks_create_connect_remove(tmp_path):
    asyncio.run(_user_networks(tmp_path))


async def _user_networks(tmp_path):
    h = Harness(tmp_path, bip="10.9.0.1/24")
    await h.svc.open(lambda cid: False)
    n = await h.svc.create(NetworkCreate("front", subnet="10.50.0.0/24"))
    assert (n.gateway, n.bridge) == ("10.50.0.1", f"dwbr-{n.id[:10]}")
    with pytest.raises(Forbidden, match="overlaps"):
        await h.svc.create(NetworkCreate("again", subnet="10.50.0.128/25"))
    with pytest.raises(Conflict, match="already exists"):
        await h.svc.create(NetworkCreate("front"))
    with pytest.raises(Forbidden, match="pre-defined"):
        await h.svc.create(NetworkCreate("host"))
    with pytest.raises(NotFound, match='plugin "weird" not found'):
        await h.svc.create(NetworkCreate("x", driver="weird"))
    auto = await h.svc.create(NetworkCreate("auto"))
    assert auto.subnet == "10.214.0.0/24"
    a = h.container("a")
    await h.svc.attach(a, 100, h.hosts)
    await h.svc.connect("front", "a")
    assert h.dns_sockets == ["/proc/100/ns/net"]  # a user network brings the embedded resolver
    assert h.svc.dns.lookup("a", "name-a") == ["10.50.0.2"]
    assert h.svc.dns.lookup("a", "elsewhere") is None
    eps = {e.ifname: e for e in h.svc.records.endpoints(container_id="a")}
    assert eps["eth1"].ip == "10.50.0.2" and not eps["eth1"].default_route
    with pytest.raises(Forbidden, match="active endpoints"):
        await h.svc.remove("front")
    await h.svc.disconnect("front", "a")
    assert [n.name for n in h.svc.networks({"dangling": ["true"]})] == ["auto", "front"]
    assert await h.svc.prune({}) == ["auto", "front"]
    pruned = [e for e in h.svc.events.history(0) if e.action == "prune"]
    assert [(e.kind, e.attributes) for e in pruned] == [("network", {"reclaimed": "0"})]
    assert {n.name for n in h.svc.networks({"type": ["builtin"]})} == {"bridge", "host", "none"}


def test_connect_a_stopped_container_applies_at_start(tmp_path):
    asyncio.run(_stopped(tmp_path))


async def _stopped(tmp_path):
    h = Harness(tmp_path, bip="10.9.0.1/24")
    await h.svc.open(lambda cid: False)
    await h.svc.create(NetworkCreate("front", subnet="10.50.0.0/24"))
    s = h.container("s")
    s.state.status, s.state.pid = "exited", 0
    await h.svc.connect("front", "s", ip="10.50.0.9", aliases=("db",))
    with pytest.raises(Forbidden, match="already exists"):
        await h.svc.connect("front", "s")
    (br, front) = h.svc.networking(s).attachments
    assert front.endpoint is None and front.static_ip == "10.50.0.9" and br.network.default
    await h.svc.attach(s, 200, h.hosts)
    eps = {e.ifname: e for e in h.svc.records.endpoints(container_id="s")}
    assert (eps["eth0"].ip, eps["eth1"].ip, eps["eth1"].aliases) == (
        "10.9.0.2",
        "10.50.0.9",
        ("db",),
    )
    assert h.svc.dns.lookup("s", "db") == ["10.50.0.9"]
    await h.svc.detach("s")
    h.svc.forget("s")
    assert h.svc.records.wanted() == []
    await h.svc.close(any_running=False)


def test_an_idle_default_network_follows_the_config_and_avoids_taken_subnets(tmp_path):
    h = Harness(tmp_path)
    run(h.svc.open(lambda cid: False))
    first = next(n for n in h.svc.networks() if n.default)
    run(h.svc.close(any_running=False))
    h.links.host.append(first.subnet)  # another daemon's bridge took it meanwhile
    run(h.svc.open(lambda cid: False))
    moved = next(n for n in h.svc.networks() if n.default)
    assert moved.id == first.id and moved.subnet != first.subnet
    h.svc.config = replace(h.svc.config, bip="10.77.0.1/16", bridge="dwtcustom")
    run(h.svc.open(lambda cid: False))
    custom = next(n for n in h.svc.networks() if n.default)
    assert (custom.subnet, custom.gateway, custom.bridge) == (
        "10.77.0.0/16",
        "10.77.0.1",
        "dwtcustom",
    )
    assert first.bridge not in h.links.links


def test_validate_mode(tmp_path):
    h = Harness(tmp_path, bip="10.9.0.1/24")
    run(h.svc.open(lambda cid: False))
    for mode in ("default", "bridge", "host", "none", "container:abc", "host"):
        h.svc.validate_mode(mode)
    with pytest.raises(InvalidParameter, match="network nope not found"):
        h.svc.validate_mode("nope")


def test_host_and_none_modes_show_their_network(tmp_path):
    h = Harness(tmp_path, bip="10.9.0.1/24")
    run(h.svc.open(lambda cid: False))
    for mode in ("host", "none"):
        c = h.container(mode, mode)
        run(h.svc.attach(c, 100, h.hosts))
        (only,) = h.svc.networking(c).attachments
        assert only.network.name == mode and only.endpoint is None
    assert h.svc.records.endpoints() == []
