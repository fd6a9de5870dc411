"""IPv6 dual-stack networks and inter-container isolation (enable_icc=false), real traffic.

One daemon whose default network is dual-stack (`ipv6` + `fixed-cidr-v6`) with `icc` off, so
its containers reach the gateway and each other's published ports but not each other. The
IPv6 pools are random unique-local /64s; traffic stays between the host and the containers.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.integration.conftest import Daemon, bootstrap_busybox
from tests.integration.network.netdaemon import (
    NetDaemon,
    fetch,
    free_port,
    free_subnet,
    network,
    run_web,
)

pytestmark = pytest.mark.integration


def ula64() -> ipaddress.IPv6Network:
    return ipaddress.IPv6Network((b"\xfd" + secrets.token_bytes(5) + bytes(10), 64))


V6_DEFAULT = ula64()


@pytest.fixture(scope="module")
def net() -> Iterator[NetDaemon]:
    n = NetDaemon(**{"ipv6": True, "fixed-cidr-v6": str(V6_DEFAULT), "icc": False})
    try:
        bootstrap_busybox(n.d)
        yield n
    finally:
        n.cleanup()


def inspect(d: Daemon, name: str) -> dict:
    r = d.docker("inspect", name)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)[0]


def reach(d: Daemon, ctr: str, url: str) -> subprocess.CompletedProcess[str]:
    """GET `url` from inside `ctr`, for at most 3 s (busybox wget's own -T crashes on IPv6)."""
    return d.docker("exec", ctr, "timeout", "3", "wget", "-qO-", url)


def unreachable(d: Daemon, ctr: str, url: str) -> bool:
    r = reach(d, ctr, url)
    return r.returncode not in (0, 139) and not r.stdout  # 139: a crash proves nothing


def test_user_network_dual_stack_traffic_dns_and_published_port(net: NetDaemon):
    d = net.d
    sub, sub6 = free_subnet(), ula64()
    r = d.docker("network", "create", "--ipv6", "--subnet", str(sub), "--subnet", str(sub6), "v6")
    assert r.returncode == 0, r.stderr
    n = network(d, "v6")
    gw6 = str(sub6.network_address + 1)
    assert n["EnableIPv6"] is True
    assert {"Subnet": str(sub6), "Gateway": gw6} in n["IPAM"]["Config"]
    port = free_port()
    static6 = str(sub6.network_address + 0x99)
    cid = run_web(d, "web6", "--network", "v6", "--ip6", static6, "-p", f"{port}:80")
    ep = inspect(d, "web6")["NetworkSettings"]["Networks"]["v6"]
    assert (ep["GlobalIPv6Address"], ep["GlobalIPv6PrefixLen"], ep["IPv6Gateway"]) == (
        static6,
        64,
        gw6,
    )
    assert ep["IPAMConfig"] == {"IPv6Address": static6}
    assert network(d, "v6")["Containers"][cid]["IPv6Address"] == f"{static6}/64"
    assert f"{static6}\t{cid[:12]}" in d.docker("exec", "web6", "cat", "/etc/hosts").stdout
    r = d.docker("run", "-d", "--name", "cli6", "--network", "v6", "busybox", "sleep", "60")
    assert r.returncode == 0, r.stderr
    got = reach(d, "cli6", f"http://[{static6}]/hostname")
    assert got.stdout == cid[:12] + "\n", got.stderr
    look = d.docker("exec", "cli6", "nslookup", "-type=AAAA", "web6", "127.0.0.11")
    assert static6 in look.stdout, look.stdout + look.stderr
    look4 = d.docker("exec", "cli6", "nslookup", "-type=A", "web6", "127.0.0.11")
    assert ep["IPAddress"] in look4.stdout and static6 not in look4.stdout
    route = d.docker("exec", "cli6", "ip", "-6", "route").stdout
    assert f"default via {gw6}" in route
    assert fetch(f"http://[{static6}]:80/hostname") == cid[:12] + "\n"  # host → container
    assert fetch(f"http://[{gw6}]:{port}/hostname") == cid[:12] + "\n"  # published, over IPv6
    assert fetch(f"http://[::1]:{port}/hostname") == cid[:12] + "\n"  # relayed by the daemon
    ports = inspect(d, "web6")["NetworkSettings"]["Ports"]["80/tcp"]
    assert {"HostIp": "::", "HostPort": str(port)} in ports
    assert d.docker("rm", "-f", "web6", "cli6").returncode == 0
    with pytest.raises(OSError):
        fetch(f"http://[::1]:{port}/hostname", wait=0)
    assert d.docker("network", "rm", "v6").returncode == 0


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"gateway\n")

    def log_message(self, *args: object) -> None:
        pass


def serve_on(address: str) -> ThreadingHTTPServer:
    """An HTTP server of the test on the bridge's gateway address (so only containers see it)."""
    server = ThreadingHTTPServer((address, 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_default_bridge_dual_stack_without_icc(net: NetDaemon):
    d = net.d
    bridge = network(d, "bridge")
    assert bridge["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    assert {"Subnet": str(V6_DEFAULT), "Gateway": str(V6_DEFAULT[1])} in bridge["IPAM"]["Config"]
    port = free_port()
    cid = run_web(d, "quiet", "-p", f"{port}:80")
    settings = inspect(d, "quiet")["NetworkSettings"]
    ip, ip6 = settings["IPAddress"], settings["GlobalIPv6Address"]
    assert ipaddress.IPv6Address(ip6) in V6_DEFAULT and settings["GlobalIPv6PrefixLen"] == 64
    assert settings["IPv6Gateway"] == str(V6_DEFAULT[1])
    assert d.docker("run", "-d", "--name", "peer", "busybox", "sleep", "60").returncode == 0
    assert unreachable(d, "peer", f"http://{ip}/hostname")  # icc off: no direct way
    assert unreachable(d, "peer", f"http://[{ip6}]/hostname")
    server = serve_on(net.gateway)
    try:
        up = reach(d, "peer", f"http://{net.gateway}:{server.server_address[1]}/")
        assert up.stdout == "gateway\n", up.stderr  # the gateway stays reachable
    finally:
        server.shutdown()
        server.server_close()
    hairpin = reach(d, "peer", f"http://{net.gateway}:{port}/hostname")
    assert hairpin.stdout == cid[:12] + "\n", hairpin.stderr  # and published ports too
    if Path(f"/proc/sys/net/ipv6/conf/{net.bridge}/force_forwarding").exists():
        hairpin6 = reach(d, "peer", f"http://[{V6_DEFAULT[1]}]:{port}/hostname")
        assert hairpin6.stdout == cid[:12] + "\n", hairpin6.stderr  # over IPv6 as well
    assert d.docker("rm", "-f", "quiet", "peer").returncode == 0


def test_user_network_with_icc_off(net: NetDaemon):
    d = net.d
    opt = "com.docker.network.bridge.enable_icc=false"
    r = d.docker("network", "create", "--subnet", str(free_subnet()), "-o", opt, "closed")
    assert r.returncode == 0, r.stderr
    run_web(d, "cweb", "--network", "closed")
    ip = inspect(d, "cweb")["NetworkSettings"]["Networks"]["closed"]["IPAddress"]
    r = d.docker("run", "-d", "--name", "cpeer", "--network", "closed", "busybox", "sleep", "60")
    assert r.returncode == 0, r.stderr
    assert unreachable(d, "cpeer", f"http://{ip}/hostname")
    assert unreachable(d, "cpeer", "http://cweb/hostname")  # resolves, cannot connect
    assert fetch(f"http://{ip}/hostname").strip()  # the host (the gateway) still reaches it
    assert d.docker("rm", "-f", "cweb", "cpeer").returncode == 0
    assert d.docker("network", "rm", "closed").returncode == 0
