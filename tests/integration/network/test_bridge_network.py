"""Bridge networking with real traffic: container to container, host to a published port.

The daemon here gets its own bridge name and a /24 unused on the host; traffic stays between
the host and the test's containers (no ip_forward, nothing leaves the host). At the end no
bridge, veth or nft table of this daemon may remain.
"""

from __future__ import annotations

import ipaddress
import re
import signal
import socket
import subprocess
import time

import pytest
from tests.integration.conftest import stop_daemon
from tests.integration.network.netdaemon import (
    NetDaemon,
    fetch,
    free_port,
    free_subnet,
    host_address,
    ip_of,
    links,
    network,
    on_bridge,
    run_web,
    settle,
)

from dockwright.kernel.netns import entered

pytestmark = pytest.mark.integration


def test_default_bridge_container_to_container_and_published_port(net: NetDaemon):
    d = net.d
    port = free_port()
    cid = run_web(d, "web", "-p", f"127.0.0.1:{port}:80", "--add-host", "gw:host-gateway")
    ip = ip_of(d, "bridge", cid)
    assert ipaddress.IPv4Address(ip) in net.subnet
    bridge = network(d, "bridge")
    assert bridge["IPAM"]["Config"] == [{"Subnet": str(net.subnet), "Gateway": net.gateway}]
    assert bridge["Options"]["com.docker.network.bridge.name"] == net.bridge
    hosts = d.docker("exec", "web", "cat", "/etc/hosts").stdout
    assert f"{ip}\t{cid[:12]}" in hosts and f"{net.gateway}\tgw" in hosts
    route = d.docker("exec", "web", "ip", "route").stdout
    assert f"default via {net.gateway}" in route
    got = d.docker("run", "--rm", "busybox", "wget", "-qO-", f"http://{ip}/hostname")
    assert got.stdout == cid[:12] + "\n", got.stderr
    assert fetch(f"http://127.0.0.1:{port}/hostname") == cid[:12] + "\n"
    assert d.docker("rm", "-f", "web").returncode == 0
    assert network(d, "bridge")["Containers"] == {}
    with pytest.raises(OSError):
        fetch(f"http://127.0.0.1:{port}/hostname", wait=0)


def test_veth_released_when_the_container_exits(net: NetDaemon):
    d = net.d
    r = d.docker("run", "--name", "brief", "busybox", "sh", "-c", "ip -o -4 addr show eth0")
    assert r.returncode == 0 and f"inet {net.subnet.network_address + 2}/24" in r.stdout, r.stderr
    assert network(d, "bridge")["Containers"] == {}
    assert settle(lambda: not on_bridge(net.bridge)), on_bridge(net.bridge)
    assert d.docker("start", "-a", "brief").returncode == 0  # a second start gets a new endpoint
    assert d.docker("rm", "brief").returncode == 0
    assert settle(lambda: not on_bridge(net.bridge))


def test_user_network_lifecycle_connect_and_isolation(net: NetDaemon):
    d = net.d
    sub = free_subnet()
    r = d.docker("network", "create", "--subnet", str(sub), "front")
    assert r.returncode == 0, r.stderr
    nid = r.stdout.strip()
    assert network(d, "front")["IPAM"]["Config"][0]["Subnet"] == str(sub)
    ls = d.docker("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout.split("\n")
    assert {"bridge bridge", "host host", "none null", "front bridge"} <= set(ls)
    cid = run_web(d, "fweb")
    assert d.docker("network", "connect", "front", "fweb").returncode == 0
    ip = ip_of(d, "front", cid)
    assert ipaddress.IPv4Address(ip) in sub
    client = d.docker("run", "-d", "--name", "fclient", "busybox", "sleep", "30").stdout.strip()
    cut = d.docker("exec", "fclient", "wget", "-T", "2", "-qO-", f"http://{ip}/hostname")
    assert cut.returncode != 0  # not on `front` yet: another network is out of reach
    assert d.docker("network", "connect", "front", "fclient").returncode == 0
    assert "eth1" in d.docker("exec", "fclient", "ip", "-o", "link").stdout
    ok = d.docker("exec", "fclient", "wget", "-qO-", f"http://{ip}/hostname")
    assert ok.stdout == cid[:12] + "\n", ok.stderr
    busy = d.docker("network", "rm", "front")
    assert busy.returncode != 0 and "active endpoints" in busy.stderr
    assert d.docker("network", "disconnect", "front", "fclient").returncode == 0
    assert set(network(d, "front")["Containers"]) == {cid}
    assert d.docker("rm", "-f", "fweb", "fclient").returncode == 0
    assert client and network(d, "front")["Containers"] == {}
    assert d.docker("network", "rm", "front").returncode == 0
    assert not any(link["ifname"] == f"dwbr-{nid[:10]}" for link in links())


def test_rules_survive_a_daemon_kill(net: NetDaemon):
    d = net.d
    port = free_port()
    cid = run_web(d, "survivor", "-p", f"127.0.0.1:{port}:80")
    stop_daemon(d, signal.SIGKILL)
    net.start()
    d = net.d
    assert fetch(f"http://127.0.0.1:{port}/hostname") == cid[:12] + "\n"
    assert ip_of(d, "bridge", cid)
    assert d.docker("stop", "-t", "1", "survivor").returncode == 0
    time.sleep(0.1)
    assert network(d, "bridge")["Containers"] == {}
    rules = subprocess.run(
        ["nft", "list", "table", "ip", net.table], capture_output=True, text=True
    )
    assert f"dport {port}" not in rules.stdout
    assert d.docker("rm", "survivor").returncode == 0


def test_publish_all_to_ephemeral_ports_on_every_host_address(net: NetDaemon):
    d = net.d
    cid = run_web(d, "eph", "-P", "--expose", "80")
    ip = ip_of(d, "bridge", cid)
    rules = subprocess.run(
        ["nft", "list", "table", "ip", net.table], capture_output=True, text=True
    )
    found = re.search(rf"tcp dport (\d+) dnat to {re.escape(ip)}:80", rules.stdout)
    assert found, rules.stdout
    port = int(found.group(1))
    assert 32768 <= port <= 60999
    assert fetch(f"http://127.0.0.1:{port}/hostname") == cid[:12] + "\n"
    assert fetch(f"http://{host_address()}:{port}/hostname") == cid[:12] + "\n"
    assert d.docker("rm", "-f", "eph").returncode == 0


def test_published_udp_port(net: NetDaemon):
    """busybox has no UDP server: the test listens inside the container's netns itself."""
    d = net.d
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    r = d.docker(
        "run", "-d", "--name", "udp", "-p", f"127.0.0.1:{port}:5353/udp", "busybox", "sleep", "60"
    )
    assert r.returncode == 0, r.stderr
    pid = d.docker("inspect", "-f", "{{.State.Pid}}", "udp").stdout.strip()
    with entered(f"/proc/{pid}/ns/net"):
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with server, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        server.bind(("0.0.0.0", 5353))
        server.settimeout(5)
        client.settimeout(5)
        client.sendto(b"ping-udp", ("127.0.0.1", port))
        data, peer = server.recvfrom(100)
        assert data == b"ping-udp"
        server.sendto(b"pong-udp", peer)
        assert client.recvfrom(100)[0] == b"pong-udp"
    assert d.docker("rm", "-f", "udp").returncode == 0


def test_docker_py_networks_and_other_modes(net: NetDaemon):
    client = net.d.client()
    sub = free_subnet()
    pool = {"Driver": "default", "Config": [{"Subnet": str(sub)}]}
    created = client.networks.create("pynet", driver="bridge", ipam=pool, labels={"k": "v"})
    try:
        assert created.attrs["Labels"] == {"k": "v"}
        assert [n.name for n in client.networks.list(filters={"label": "k=v"})] == ["pynet"]
        assert {n.name for n in client.networks.list(names=["bridge", "host", "none"])} >= {
            "bridge",
            "host",
            "none",
        }
        out = client.containers.run(
            "busybox", ["ip", "-o", "-4", "addr"], network_mode="none", remove=True
        )
        assert b"eth0" not in out and b"127.0.0.1" in out
        out = client.containers.run(
            "busybox", ["ip", "-o", "link"], network_mode="host", remove=True
        )
        assert net.bridge.encode() in out
    finally:
        created.remove()
    assert not [n for n in client.networks.list() if n.name == "pynet"]
    assert client.networks.prune()["NetworksDeleted"] in ([], None)


def test_embedded_dns_on_a_user_network(net: NetDaemon):
    d = net.d
    assert d.docker("network", "create", "--subnet", str(free_subnet()), "dnsnet").returncode == 0
    cid = run_web(d, "dweb")
    assert d.docker("run", "-d", "--name", "dclient", "busybox", "sleep", "60").returncode == 0
    for name in ("dweb", "dclient"):
        r = d.docker("network", "connect", "dnsnet", name)
        assert r.returncode == 0, r.stderr
    resolv = d.docker("exec", "dclient", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 127.0.0.11" in resolv and "options ndots:0" in resolv
    got = d.docker("exec", "dclient", "wget", "-qO-", "http://dweb/hostname")
    assert got.stdout == cid[:12] + "\n", got.stderr
    got = d.docker("exec", "dclient", "wget", "-qO-", f"http://{cid[:12]}/hostname")
    assert got.stdout == cid[:12] + "\n", got.stderr
    stop_daemon(d, signal.SIGKILL)  # the resolver sockets die with it; the next one reopens them
    net.start()
    d = net.d
    got = d.docker("exec", "dclient", "wget", "-qO-", "http://dweb/hostname")
    assert got.stdout == cid[:12] + "\n", got.stderr
    assert d.docker("rm", "-f", "dweb", "dclient").returncode == 0
    assert d.docker("network", "rm", "dnsnet").returncode == 0


def test_connect_before_start_with_static_ip_and_alias(net: NetDaemon):
    d = net.d
    sub = free_subnet()
    static = str(sub.network_address + 50)
    assert d.docker("network", "create", "--subnet", str(sub), "later").returncode == 0
    r = d.docker("create", "--name", "lweb", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc")
    cid = r.stdout.strip()
    r = d.docker("network", "connect", "--ip", static, "--alias", "db", "later", "lweb")
    assert r.returncode == 0, r.stderr
    assert d.docker("start", "lweb").returncode == 0
    assert ip_of(d, "later", cid) == static
    assert d.docker("run", "-d", "--name", "lclient", "busybox", "sleep", "60").returncode == 0
    assert d.docker("network", "connect", "later", "lclient").returncode == 0
    for _ in range(2):  # and again after a restart, which re-attaches every network
        got = d.docker("exec", "lclient", "wget", "-qO-", "http://db/hostname")
        assert got.stdout == cid[:12] + "\n", got.stderr
        assert d.docker("restart", "-t", "1", "lweb").returncode == 0
    assert ip_of(d, "later", cid) == static
    assert d.docker("rm", "-f", "lweb", "lclient").returncode == 0
    assert d.docker("network", "rm", "later").returncode == 0
