"""Helpers of the network integration tests: a daemon with its own bridge and subnet, and
probes of the host's links, tables and free subnets and ports."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.integration.conftest import (
    Daemon,
    conmon_pids_under,
    mounts_under,
    remove_all_containers,
    start_daemon,
    stop_daemon,
)


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

    def __init__(self, **config: object) -> None:
        """`config`: more daemon.json keys (e.g. ipv6, fixed-cidr-v6, icc)."""
        self.root = Path(tempfile.mkdtemp(prefix="dwt-net-", dir="/tmp"))
        self.bridge = "dwt" + secrets.token_hex(4)
        self.subnet = free_subnet()
        self.gateway = str(self.subnet.network_address + 1)
        instance = hashlib.sha256(str((self.root / "data").resolve()).encode()).hexdigest()[:8]
        self.table = f"dockwright-{instance}"
        cfg = self.root / "daemon.json"
        cfg.write_text(json.dumps({"bridge": self.bridge, "bip": f"{self.gateway}/24", **config}))
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
        for family in ("ip", "ip6", "bridge") if table else ():
            subprocess.run(["nft", "delete", "table", family, self.table], capture_output=True)
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


def network(d: Daemon, name: str) -> dict:
    status, body = d.request("GET", f"/networks/{name}")
    assert status == 200, body
    return json.loads(body)


def ip_of(d: Daemon, network_name: str, cid: str) -> str:
    return network(d, network_name)["Containers"][cid]["IPv4Address"].split("/")[0]


def fetch(url: str, wait: float = 3.0) -> str:
    """GET `url`; a server a container just started may not listen yet, so refusals and
    resets are retried for `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read().decode()
        except (urllib.error.URLError, ConnectionError) as exc:
            refused = isinstance(getattr(exc, "reason", exc), ConnectionError)
            if not refused or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def run_web(d: Daemon, name: str, *extra: str) -> str:
    r = d.docker(
        "run", "-d", "--name", name, *extra, "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def on_bridge(bridge: str) -> list[str]:
    return [link["ifname"] for link in links() if link.get("master") == bridge]


def settle(check, timeout: float = 3.0):
    """Poll `check` until it is truthy (veths go away in the background after an exit)."""
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def host_address() -> str:
    out = subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True)
    for link in json.loads(out.stdout):
        for a in link.get("addr_info", []):
            if not a["local"].startswith("127."):
                return str(a["local"])
    raise RuntimeError("the host has no non-loopback IPv4 address")
