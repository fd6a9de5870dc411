"""Bridge networking with real traffic: container to container, host to a published port.

The daemon here gets its own bridge name and a /24 unused on the host; traffic stays between
the host and the test's containers (no ip_forward, nothing leaves the host). At the end no
bridge, veth or nft table of this daemon may remain.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from tests.integration.conftest import (
    Daemon,
    bootstrap_busybox,
    conmon_pids_under,
    mounts_under,
    remove_all_containers,
    start_daemon,
    stop_daemon,
)

from dockwright.kernel.netns import entered

pytestmark = pytest.mark.integration


def host_prefixes() -> list[ipaddress.IPv4Network]:
    out = subprocess.run(["ip", "-j", "-4", "route", "show", "table", "all"], capture_output=True)
    nets = []
    for r in json.loads(out.stdout or b"[]"):
        dst = r.get("dst", "")
        if dst and dst != "default" and ":" not in dst:
            nets.append(ipaddress.IPv4Network(dst if "/" in dst else dst + "/32", strict=False))
    return nets


def free_subnet() -> ipaddress.IPv4Network:
    busy = host_prefixes()
    for _ in range(100):
        cand = ipaddress.IPv4Network(f"10.{random.randint(216, 230)}.{random.randint(0, 255)}.0/24")
        if not any(cand.overlaps(b) for b in busy):
            return cand
    raise RuntimeError("no free subnet")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def links() -> list[dict]:
    out = subprocess.run(["ip", "-j", "link"], capture_output=True)
    return json.loads(out.stdout)


def nft_tables() -> list[str]:
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True)
    return out.stdout.split()


class NetDaemon:
    """A daemon with its own bridge and subnet; `cleanup` removes only what is provably its own
    (its bridges and the veths on them): other daemons may run on this host at the same time."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dwt-net-", dir="/tmp"))
        self.bridge = "dwt" + secrets.token_hex(4)
        self.subnet = free_subnet()
        self.gateway = str(self.subnet.network_address + 1)
        instance = hashlib.sha256(str((self.root / "data").resolve()).encode()).hexdigest()[:8]
        self.table = f"dockwright-{instance}"
        cfg = self.root / "daemon.json"
        cfg.write_text(json.dumps({"bridge": self.bridge, "bip": f"{self.gateway}/24"}))
        self.d: Daemon = start_daemon(self.root, ("--config-file", str(cfg)))

    def start(self) -> None:
        self.d = start_daemon(self.root, ("--config-file", str(self.root / "daemon.json")))

    def owned_links(self) -> set[str]:
        """This daemon's bridges (from its API) and every link enslaved to one of them."""
        status, body = self.d.request("GET", "/networks")
        bridges = {self.bridge}
        if status == 200:
            for n in json.loads(body):
                if n["Driver"] == "bridge" and n["Name"] != "bridge":
                    bridges.add(
                        n["Options"].get("com.docker.network.bridge.name") or f"dwbr-{n['Id'][:10]}"
                    )
        return bridges | {link["ifname"] for link in links() if link.get("master") in bridges}

    def cleanup(self) -> None:
        owned: set[str] = set()
        try:
            remove_all_containers(self.d)
            owned = self.owned_links()
        finally:
            stop_daemon(self.d)
        left = sorted(owned & {link["ifname"] for link in links()})
        table = self.table in nft_tables()
        for name in left:
            subprocess.run(["ip", "link", "del", name], check=False)
        if table:
            subprocess.run(["nft", "delete", "table", "ip", self.table], check=False)
        mounts = mounts_under(self.root)
        for m in reversed(mounts):
            subprocess.run(["umount", "-l", m], check=False)
        pids = conmon_pids_under(self.root)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)
        assert not left, f"links left behind: {left}"
        assert not table, f"nft table left behind: {self.table}"
        assert not mounts and not pids


@pytest.fixture(scope="module")
def net():
    n = NetDaemon()
    try:
        bootstrap_busybox(n.d)
        yield n
    finally:
        n.cleanup()


def network(d: Daemon, name: str) -> dict:
    status, body = d.request("GET", f"/networks/{name}")
    assert status == 200, body
    return json.loads(body)


def ip_of(d: Daemon, network_name: str, cid: str) -> str:
    return network(d, network_name)["Containers"][cid]["IPv4Address"].split("/")[0]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def run_web(d: Daemon, name: str, *extra: str) -> str:
    r = d.docker(
        "run", "-d", "--name", name, *extra, "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


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
        fetch(f"http://127.0.0.1:{port}/hostname")


def on_bridge(bridge: str) -> list[str]:
    return [link["ifname"] for link in links() if link.get("master") == bridge]


def settle(check, timeout: float = 3.0):
    """Poll `check` until it is truthy (veths go away in the background after an exit)."""
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


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


def host_address() -> str:
    out = subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True)
    for link in json.loads(out.stdout):
        for a in link.get("addr_info", []):
            if not a["local"].startswith("127."):
                return str(a["local"])
    raise RuntimeError("the host has no non-loopback IPv4 address")


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
