"""macvlan and ipvlan networks with real traffic between two containers.

The parent is one end of a veth pair this test creates in the host netns under a unique name
(its peer is only there to give it a carrier); no address is put on it, so nothing the
containers send leaves the pair. The test deletes the pair at the end.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator

import pytest
from tests.integration.network.netdaemon import (
    NetDaemon,
    free_port,
    free_subnet,
    links,
    network,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def parent() -> Iterator[str]:
    tag = secrets.token_hex(4)
    name, peer = f"dwtm{tag}", f"dwtp{tag}"
    subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", peer], check=True)
    try:
        for link in (name, peer):
            subprocess.run(["ip", "link", "set", link, "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "link", "del", name], check=False)
    assert not {name, peer} & {link["ifname"] for link in links()}


def kernel_has(kind: str, parent: str) -> bool:
    """Whether this kernel makes `kind` links (probed with a child removed at once)."""
    probe = "dwtk" + secrets.token_hex(4)
    made = subprocess.run(["ip", "link", "add", probe, "link", parent, "type", kind])
    subprocess.run(["ip", "link", "del", probe], check=False, capture_output=True)
    return made.returncode == 0


def ping_between_two(net: NetDaemon, name: str) -> str:
    """A container pings another on network `name` by address, through the parent; the
    first one's eth0 and routes as `ip -d` shows them from the host."""
    d = net.d
    r = d.docker("run", "-d", "--name", f"{name}-a", "--network", name, "busybox", "sleep", "60")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    ip = network(d, name)["Containers"][cid]["IPv4Address"].split("/")[0]
    got = d.docker("run", "--rm", "--network", name, "busybox", "ping", "-c", "1", "-W", "3", ip)
    assert got.returncode == 0 and "1 packets received" in got.stdout, got.stdout + got.stderr
    pid = d.docker("inspect", "-f", "{{.State.Pid}}", cid).stdout.strip()
    ns = ["nsenter", "-t", pid, "-n", "ip", "-d"]
    shown = subprocess.run([*ns, "link", "show", "eth0"], capture_output=True, text=True).stdout
    shown += subprocess.run([*ns, "route"], capture_output=True, text=True).stdout
    assert d.docker("rm", "-f", f"{name}-a").returncode == 0
    return shown


def test_macvlan_containers_reach_each_other(net: NetDaemon, parent: str):
    d = net.d
    sub = free_subnet()
    gw = str(sub.network_address + 1)
    r = d.docker(
        "network", "create", "-d", "macvlan", "--subnet", str(sub), "--gateway", gw,
        "-o", f"parent={parent}", "mv",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    shown = network(d, "mv")
    assert (shown["Driver"], shown["Options"]) == ("macvlan", {"parent": parent})
    assert shown["IPAM"]["Config"] == [{"Subnet": str(sub), "Gateway": gw}]
    assert d.docker("network", "ls", "-q", "--filter", "driver=macvlan").stdout.strip()
    shown = ping_between_two(net, "mv")
    assert "macvlan mode bridge" in shown and f"default via {gw} dev eth0" in shown, shown
    assert network(d, "mv")["Containers"] == {}
    assert d.docker("network", "rm", "mv").returncode == 0
    assert parent in {link["ifname"] for link in links()}  # the parent is left alone


def test_ipvlan_l2_containers_reach_each_other(net: NetDaemon, parent: str):
    """Where the kernel has no ipvlan, starting fails with its error and leaves nothing."""
    d = net.d
    sub = free_subnet()
    r = d.docker(
        "network", "create", "-d", "ipvlan", "--subnet", str(sub),
        "-o", f"parent={parent}", "-o", "ipvlan_mode=l2", "iv",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    shown = network(d, "iv")
    assert shown["Driver"] == "ipvlan"
    assert shown["Options"] == {"parent": parent, "ipvlan_mode": "l2"}
    if kernel_has("ipvlan", parent):
        assert "ipvlan" in ping_between_two(net, "iv")
    else:
        r = d.docker("run", "--rm", "--network", "iv", "busybox", "true")
        want = f"create ipvlan eth0 on {parent}: operation not supported"
        assert r.returncode != 0 and want in r.stderr, r.stderr
    assert network(d, "iv")["Containers"] == {}
    assert d.docker("network", "rm", "iv").returncode == 0


def test_a_parent_not_on_the_host_is_a_400(net: NetDaemon):
    body = {
        "Name": "nope",
        "Driver": "macvlan",
        "Options": {"parent": "dwtx" + secrets.token_hex(4)},
    }
    status, reply = net.d.request("POST", "/networks/create", json.dumps(body).encode())
    assert status == 400
    message = json.loads(reply)["message"]
    assert message == f"-o parent interface was not found on the host: {body['Options']['parent']}"
    bad = net.d.docker("network", "create", "-d", "ipvlan", "-o", "ipvlan_mode=l9", "-o",
                       "parent=lo", "nope")  # fmt: skip
    assert bad.returncode != 0 and "ipvlan mode 'l9' is not valid" in bad.stderr
    assert net.d.request("GET", "/networks/nope")[0] == 404


def links_in(d_pid: str) -> str:
    got = subprocess.run(["nsenter", "-t", d_pid, "-n", "ip", "-d", "link"], capture_output=True)
    return got.stdout.decode()


def test_connect_disconnect_running_and_ports_ignored(net: NetDaemon, parent: str):
    d = net.d
    sub = free_subnet()
    r = d.docker("network", "create", "-d", "macvlan", "--subnet", str(sub), "-o",
                 f"parent={parent}", "mv2")  # fmt: skip
    assert r.returncode == 0, r.stderr
    port = free_port()
    r = d.docker("run", "-d", "--name", "mvp", "--network", "mv2", "-p", f"127.0.0.1:{port}:80",
                 "busybox", "sleep", "60")  # fmt: skip
    assert r.returncode == 0, r.stderr
    rules = subprocess.run(["nft", "list", "table", "ip", net.table], capture_output=True)
    assert f"dport {port}".encode() not in rules.stdout  # Docker ignores -p on macvlan
    r = d.docker("run", "-d", "--name", "onbr", "busybox", "sleep", "60")
    assert r.returncode == 0, r.stderr
    pid = d.docker("inspect", "-f", "{{.State.Pid}}", "onbr").stdout.strip()
    assert d.docker("network", "connect", "mv2", "onbr").returncode == 0
    assert "eth1@" in links_in(pid) and "macvlan mode bridge" in links_in(pid)
    mvp = network(d, "mv2")["Containers"]
    ip = next(c["IPv4Address"] for c in mvp.values() if c["Name"] == "mvp").split("/")[0]
    got = d.docker("exec", "onbr", "ping", "-c", "1", "-W", "3", ip)
    assert got.returncode == 0, got.stdout + got.stderr
    assert d.docker("network", "disconnect", "mv2", "onbr").returncode == 0
    assert "eth1@" not in links_in(pid)
    assert d.docker("rm", "-f", "mvp", "onbr").returncode == 0
    assert d.docker("network", "rm", "mv2").returncode == 0


def kernel_makes(*args: str) -> bool:
    """Whether `ip link add <probe> <args>` works here (the probe is removed at once)."""
    probe = "dwtk" + secrets.token_hex(4)
    made = subprocess.run(["ip", "link", "add", probe, *args], capture_output=True)
    subprocess.run(["ip", "link", "del", probe], check=False, capture_output=True)
    return made.returncode == 0


def test_macvlan_without_parent_makes_a_dummy_or_says_the_kernel_lacks_it(net: NetDaemon):
    d = net.d
    r = d.docker("network", "create", "-d", "macvlan", "--subnet", str(free_subnet()), "nopar")
    if kernel_makes("type", "dummy"):
        assert r.returncode == 0, r.stderr
        dummy = network(d, "nopar")["Options"]["parent"]
        assert dummy.startswith("dm-") and dummy in {link["ifname"] for link in links()}
        assert d.docker("network", "rm", "nopar").returncode == 0
        assert dummy not in {link["ifname"] for link in links()}
    else:
        assert r.returncode != 0
        assert "the kernel lacks dummy links (module dummy)" in r.stderr, r.stderr
        assert not any(link["ifname"].startswith("dm-") for link in links())
    assert net.d.request("GET", "/networks/nopar")[0] == 404


def test_an_8021q_parent_is_made_and_removed_with_the_network(net: NetDaemon, parent: str):
    d = net.d
    tagged = f"{parent}.10"
    assert len(tagged) <= 15  # IFNAMSIZ
    r = d.docker(
        "network", "create", "-d", "macvlan", "--subnet", str(free_subnet()),
        "-o", f"parent={tagged}", "tagged",
    )  # fmt: skip
    if kernel_makes("link", parent, "type", "vlan", "id", "11"):
        assert r.returncode == 0, r.stderr
        shown = subprocess.run(["ip", "-d", "link", "show", tagged], capture_output=True, text=True)
        assert "vlan protocol 802.1Q id 10" in shown.stdout, shown.stdout + shown.stderr
        assert d.docker("network", "rm", "tagged").returncode == 0
    else:
        assert r.returncode != 0
        assert "the kernel lacks vlan links (module 8021q)" in r.stderr, r.stderr
        assert net.d.request("GET", "/networks/tagged")[0] == 404
    assert tagged not in {link["ifname"] for link in links()}
