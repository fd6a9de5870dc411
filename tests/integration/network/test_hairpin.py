"""Published ports reached the ways Docker allows: from another container through the host's
address (hairpin, also across networks) and from outside the host, on a non-loopback address.

"Outside" is a network namespace this test makes, joined to the host by a veth pair whose host
end holds a 198.18.x.1/30 address (RFC 2544 benchmark space) and forwards: that address is the
host's own, and nothing but the test's namespace sits behind it. The host does not forward in
general, so containers must not reach into that namespace on their own.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.conftest import Daemon
from tests.integration.network.netdaemon import (
    NetDaemon,
    fetch,
    free_port,
    free_subnet,
    links,
    network,
    run_web,
)

from dockwright.kernel.netns import entered

pytestmark = pytest.mark.integration


class Outside:
    """A namespace behind a veth; `host_ip` lives on the host end, `peer_ip` inside."""

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.ns, self.host_end = f"dwto{tag}", f"dwth{tag}"
        third = int(tag[:2], 16)
        self.host_ip, self.peer_ip = f"198.18.{third}.1", f"198.18.{third}.2"
        run = ["ip", "netns", "exec", self.ns]
        for cmd in (
            ["ip", "netns", "add", self.ns],
            ["ip", "link", "add", self.host_end, "type", "veth", "peer", "name", "eth0",
             "netns", self.ns],
            ["ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_end],
            ["ip", "link", "set", self.host_end, "up"],
            ["sysctl", "-qw", f"net.ipv4.conf.{self.host_end}.forwarding=1"],
            [*run, "ip", "addr", "add", f"{self.peer_ip}/30", "dev", "eth0"],
            [*run, "ip", "link", "set", "eth0", "up"],
            [*run, "ip", "link", "set", "lo", "up"],
            [*run, "ip", "route", "add", "default", "via", self.host_ip],
        ):  # fmt: skip
            subprocess.run(cmd, check=True)

    @property
    def path(self) -> str:
        return f"/run/netns/{self.ns}"

    def get(self, url_host: str, port: int, path: str) -> str:
        """An HTTP GET from inside the namespace."""
        with entered(self.path):
            s = socket.socket()
        with s:
            s.settimeout(5)
            s.connect((url_host, port))
            s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        return data.decode().partition("\r\n\r\n")[2]

    def close(self) -> None:
        subprocess.run(["ip", "link", "del", self.host_end], check=False)
        subprocess.run(["ip", "netns", "del", self.ns], check=False)
        assert self.host_end not in {link["ifname"] for link in links()}
        assert not Path(self.path).exists()


@pytest.fixture
def outside() -> Iterator[Outside]:
    o = Outside()
    try:
        yield o
    finally:
        o.close()


def reach(d: Daemon, ctr: str, url: str) -> subprocess.CompletedProcess[str]:
    return d.docker("exec", ctr, "timeout", "3", "wget", "-qO-", url)


def test_hairpin_from_the_same_and_from_another_network(net: NetDaemon):
    d = net.d
    port = free_port()
    cid = run_web(d, "pub", "-p", f"{port}:80")
    assert d.docker("run", "-d", "--name", "same", "busybox", "sleep", "60").returncode == 0
    got = reach(d, "same", f"http://{net.gateway}:{port}/hostname")
    assert got.stdout == cid[:12] + "\n", got.stderr
    assert d.docker("network", "create", "--subnet", str(free_subnet()), "apart").returncode == 0
    r = d.docker("run", "-d", "--name", "other", "--network", "apart", "busybox", "sleep", "60")
    assert r.returncode == 0, r.stderr
    ip = network(d, "bridge")["Containers"][cid]["IPv4Address"].split("/")[0]
    assert reach(d, "other", f"http://{ip}/hostname").returncode != 0  # isolated networks...
    own_gateway = network(d, "apart")["IPAM"]["Config"][0]["Gateway"]
    got = reach(d, "other", f"http://{own_gateway}:{port}/hostname")
    assert got.stdout == cid[:12] + "\n", got.stderr  # ...but the published port is public
    assert d.docker("rm", "-f", "pub", "same", "other").returncode == 0
    assert d.docker("network", "rm", "apart").returncode == 0


def test_published_port_on_a_host_address_from_outside(net: NetDaemon, outside: Outside):
    d = net.d
    port = free_port()
    cid = run_web(d, "ext", "-p", f"{port}:80")
    assert outside.get(outside.host_ip, port, "/hostname") == cid[:12] + "\n"
    assert fetch(f"http://{outside.host_ip}:{port}/hostname") == cid[:12] + "\n"  # the host too
    bound = run_web(d, "lo-only", "-p", f"127.0.0.1:{free_port()}:80")
    lo_port = int(d.docker("port", "lo-only", "80").stdout.split(":")[-1])
    with pytest.raises(OSError):  # published on 127.0.0.1 only: not on this address
        outside.get(outside.host_ip, lo_port, "/hostname")
    assert bound
    assert d.docker("rm", "-f", "ext", "lo-only").returncode == 0


def test_containers_do_not_reach_beyond_the_host_unless_it_forwards(
    net: NetDaemon, outside: Outside
):
    d = net.d
    with entered(outside.path):
        server = socket.socket()
    server.bind((outside.peer_ip, 0))
    server.listen()
    server.settimeout(4)
    port = server.getsockname()[1]
    accepted: list[bool] = []

    def accept() -> None:
        try:
            conn, _ = server.accept()
            conn.close()
            accepted.append(True)
        except OSError:
            pass

    t = threading.Thread(target=accept)
    t.start()
    try:
        assert d.docker("run", "-d", "--name", "out", "busybox", "sleep", "60").returncode == 0
        d.docker("exec", "out", "timeout", "3", "nc", outside.peer_ip, str(port))
        t.join(5)
    finally:
        server.close()
        t.join()
    forwards = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "1"
    assert bool(accepted) == forwards
    assert d.docker("rm", "-f", "out").returncode == 0
