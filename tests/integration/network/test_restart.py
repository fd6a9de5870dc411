"""After `kill -9` of the daemon and a restart, allocations and nft rules are what the
surviving containers need, no more: a container that died meanwhile gives back its address,
ports and rules; removing everything afterwards leaves no veth, netns, rule or address."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest
from tests.integration.conftest import Daemon, stop_daemon
from tests.integration.network.netdaemon import (
    NetDaemon,
    fetch,
    free_port,
    free_subnet,
    links,
    network,
    run_web,
    settle,
)

pytestmark = pytest.mark.integration

FAMILIES = ("ip", "ip6", "bridge")


def rules(table: str) -> list[str]:
    """Every rule of the daemon's tables, as nft prints them (sorted, handles left out)."""
    out = []
    for family in FAMILIES:
        got = subprocess.run(["nft", "-j", "list", "table", family, table], capture_output=True)
        for item in json.loads(got.stdout or b"{}").get("nftables", []):
            if "rule" in item:
                rule = item["rule"]
                out.append(f"{family} {rule['chain']} {json.dumps(rule['expr'], sort_keys=True)}")
    return sorted(out)


def addresses(d: Daemon) -> dict[str, str]:
    """container name → IPv4 address, over every network."""
    out = {}
    status, body = d.request("GET", "/networks")
    for n in json.loads(body):
        for c in network(d, n["Id"])["Containers"].values():
            out[c["Name"]] = c["IPv4Address"]
    return out


def veths_of(d: Daemon) -> set[str]:
    """The host ends of the veths of every endpoint the daemon shows (named by endpoint id)."""
    out = set()
    status, body = d.request("GET", "/networks")
    for n in json.loads(body):
        out |= {f"dwv{c['EndpointID'][:12]}" for c in network(d, n["Id"])["Containers"].values()}
    return out


def present(names: set[str]) -> set[str]:
    return names & {link["ifname"] for link in links()}


def netns_inode(pid: int) -> int:
    return os.stat(f"/proc/{pid}/ns/net").st_ino


def netns_in_use(inode: int) -> bool:
    """Whether any process still has the network namespace `inode`."""
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}/ns/net").st_ino == inode:
                return True
        except OSError:
            continue
    return False


def pid_of(d: Daemon, name: str) -> int:
    return int(d.docker("inspect", "-f", "{{.State.Pid}}", name).stdout)


def test_kill_restart_keeps_allocations_and_rules_consistent(net: NetDaemon):
    d = net.d
    base = rules(net.table)
    sub = str(free_subnet())
    opt = "com.docker.network.bridge.enable_icc=false"
    assert d.docker("network", "create", "--subnet", sub, "-o", opt, "kept").returncode == 0
    p1, p2, p3 = free_port(), free_port(), free_port()
    web = run_web(d, "kweb", "-p", f"127.0.0.1:{p1}:80", "-p", f"{p3}:80")
    run_web(d, "kdies", "-p", f"127.0.0.1:{p2}:80", "--network", "kept")
    run_web(d, "kpeer", "--network", "kept", "--network-alias", "peer")
    full, held, made = rules(net.table), addresses(d), veths_of(d)
    assert len(present(made)) == 3
    assert [r for r in full if str(p2) in r] and [r for r in full if r.startswith("bridge ")]
    dies_pid, web_ns = pid_of(d, "kdies"), netns_inode(pid_of(d, "kweb"))
    stop_daemon(d, signal.SIGKILL)
    os.kill(dies_pid, signal.SIGKILL)  # a container the test started dies while no daemon runs
    net.start()
    d = net.d
    assert settle(
        lambda: "exited" in d.docker("inspect", "-f", "{{.State.Status}}", "kdies").stdout
    )
    after = rules(net.table)
    gone = set(full) - set(after)
    assert set(after) <= set(full)  # nothing new, nothing twice...
    assert gone and all(str(p2) in r or r.startswith("bridge ") for r in gone)  # ...only its own
    assert addresses(d) == {k: v for k, v in held.items() if k != "kdies"}
    assert fetch(f"http://127.0.0.1:{p1}/hostname") == web[:12] + "\n"
    assert fetch(f"http://[::1]:{p3}/hostname") == web[:12] + "\n"  # the relay is back
    r = d.docker("run", "-d", "--name", "knew", "--network", "kept", "busybox", "sleep", "60")
    assert r.returncode == 0, r.stderr
    assert addresses(d)["knew"] == held["kdies"]  # the dead one's address is free again
    made |= veths_of(d)
    kept_bridge = f"dwbr-{network(d, 'kept')['Id'][:10]}"
    assert [r for r in rules(net.table) if r.startswith("bridge ")]  # icc rule for the new pair
    assert d.docker("rm", "-f", "kweb", "kdies", "kpeer", "knew").returncode == 0
    assert d.docker("network", "rm", "kept").returncode == 0
    assert settle(lambda: not present(made | {kept_bridge}), 5.0), present(made)
    assert rules(net.table) == base  # exactly the rules of a daemon with nothing running
    assert network(d, "bridge")["Containers"] == {}
    assert not netns_in_use(web_ns)
