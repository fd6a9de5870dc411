"""The real docker CLI and docker-py against the networks API: create with IPAM, run with
--network/--ip/--network-alias and -p, connect/disconnect, inspect, prune."""

from __future__ import annotations

import json

import pytest
from tests.integration.network.netdaemon import NetDaemon, fetch, free_port, free_subnet

pytestmark = pytest.mark.integration

HTTPD = ("busybox", "httpd", "-f", "-p", "80", "-h", "/etc")


def test_docker_cli_run_with_ip_alias_and_published_port(net: NetDaemon):
    d = net.d
    sub = free_subnet()
    gw, static, second = (str(sub.network_address + k) for k in (1, 40, 41))
    r = d.docker(
        "network", "create", "--subnet", str(sub), "--gateway", gw, "--label", "t=cli", "cnet"
    )
    assert r.returncode == 0, r.stderr
    port = free_port()
    r = d.docker(
        "run", "-d", "--name", "capp", "--network", "cnet", "--ip", static,
        "--network-alias", "foo", "-p", f"127.0.0.1:{port}:80", *HTTPD,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    ep = json.loads(d.docker("inspect", "capp").stdout)[0]["NetworkSettings"]["Networks"]["cnet"]
    assert (ep["IPAddress"], ep["Gateway"], ep["IPAMConfig"]) == (
        static,
        gw,
        {"IPv4Address": static},
    )
    assert "foo" in ep["Aliases"] and "foo" in ep["DNSNames"]
    got = d.docker(
        "run", "--rm", "--network", "cnet", "busybox", "wget", "-qO-", "http://foo/hostname"
    )
    assert got.stdout == cid[:12] + "\n", got.stderr
    assert fetch(f"http://127.0.0.1:{port}/hostname") == cid[:12] + "\n"
    assert d.docker("port", "capp", "80").stdout.strip() == f"127.0.0.1:{port}"
    r = d.docker("run", "-d", "--name", "cother", "busybox", "sleep", "60")
    assert r.returncode == 0, r.stderr
    r = d.docker("network", "connect", "--ip", second, "--alias", "bar", "cnet", "cother")
    assert r.returncode == 0, r.stderr
    members = json.loads(
        d.docker("network", "inspect", "-f", "{{json .Containers}}", "cnet").stdout
    )
    assert {m["Name"]: m["IPv4Address"] for m in members.values()} == {
        "capp": f"{static}/24" if sub.prefixlen == 24 else f"{static}/{sub.prefixlen}",
        "cother": f"{second}/{sub.prefixlen}",
    }
    got = d.docker("exec", "cother", "wget", "-qO-", "http://foo/hostname")
    assert got.stdout == cid[:12] + "\n", got.stderr
    taken = d.docker("run", "--rm", "--network", "cnet", "--ip", static, "busybox", "true")
    assert taken.returncode != 0 and "address already in use" in taken.stderr.lower()
    assert d.docker("network", "disconnect", "cnet", "cother").returncode == 0
    assert "eth1" not in d.docker("exec", "cother", "ip", "-o", "link").stdout
    assert d.docker("network", "create", "--subnet", str(free_subnet()), "cidle").returncode == 0
    keep = ("--subnet", str(free_subnet()), "--label", "t=cli", "ckeep")
    assert d.docker("network", "create", *keep).returncode == 0
    pruned = d.docker("network", "prune", "-f", "--filter", "label!=t=cli")
    assert pruned.returncode == 0 and pruned.stdout.split()[-1:] == ["cidle"], pruned.stdout
    ls = d.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert "cidle" not in ls and {"cnet", "ckeep"} <= set(ls)
    assert d.docker("network", "rm", "ckeep").returncode == 0
    assert d.docker("rm", "-f", "capp", "cother").returncode == 0
    assert d.docker("network", "rm", "cnet").returncode == 0


def test_docker_py_networks_with_static_ip_alias_and_ports(net: NetDaemon):
    import docker
    from docker.types import IPAMConfig, IPAMPool

    client = net.d.client()
    sub = free_subnet()
    static = str(sub.network_address + 9)
    ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=str(sub))])
    pynet = client.networks.create("pyn", driver="bridge", ipam=ipam, labels={"t": "py"})
    api = client.api
    port = free_port()
    host = api.create_host_config(port_bindings={80: ("127.0.0.1", port)}, network_mode="pyn")
    cfg = api.create_networking_config(
        {"pyn": api.create_endpoint_config(ipv4_address=static, aliases=["web"])}
    )
    made = api.create_container(
        "busybox", list(HTTPD[1:]), ports=[80], host_config=host, networking_config=cfg,
        name="pyweb",
    )  # fmt: skip
    web = client.containers.get(made["Id"])
    try:
        web.start()
        web.reload()
        settings = web.attrs["NetworkSettings"]["Networks"]["pyn"]
        assert settings["IPAddress"] == static and "web" in settings["Aliases"]
        assert web.ports["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
        assert fetch(f"http://127.0.0.1:{port}/hostname") == web.id[:12] + "\n"
        other = client.containers.run("busybox", ["sleep", "60"], detach=True, name="pyother")
        try:
            pynet.connect(other, aliases=["helper"])
            out = other.exec_run(["wget", "-qO-", "http://web/hostname"])
            assert out.output == (web.id[:12] + "\n").encode()
            pynet.reload()
            assert {c.name for c in pynet.containers} == {"pyweb", "pyother"}
            pynet.disconnect(other)
            pynet.reload()
            assert [c.name for c in pynet.containers] == ["pyweb"]
        finally:
            other.remove(force=True)
        with pytest.raises(docker.errors.APIError):
            pynet.remove()  # in use
    finally:
        web.remove(force=True)
    assert client.networks.prune(filters={"label": "t=py"})["NetworksDeleted"] == ["pyn"]
    assert not client.networks.list(names=["pyn"])
