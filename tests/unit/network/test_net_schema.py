"""Docker's JSON shapes for networks, endpoints and published ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwright.api.schema.containers import network_settings_json
from dockwright.api.schema.networks import (
    network_json,
    parse_network_create,
    summary_ports,
)
from dockwright.engine.containers.views import ContainerView
from dockwright.engine.networks import Attachment, ContainerNetworking, NetworkCreate
from dockwright.errors import InvalidParameter
from dockwright.network.model import Endpoint, Network, PortMapping
from dockwright.types.container import Container, ContainerConfig, HostSettings

pytestmark = pytest.mark.unit

NET = Network("n" * 64, "bridge", "bridge", "dw0", "172.29.0.0/16", "172.29.0.1", default=True)
EP = Endpoint(
    "e" * 64, NET.id, "c" * 64, "web", "dwveee", "172.29.0.2", 16, "172.29.0.1",
    "02:42:ac:1d:00:02", ports=(PortMapping("tcp", 80, "127.0.0.1", 8080),),
)  # fmt: skip
NETWORKING = ContainerNetworking("default", (Attachment(NET, EP),), ("443/tcp", "80/tcp"))


def view() -> ContainerView:
    c = Container("c" * 64, "web", 0.0, "img", ContainerConfig(), HostSettings())
    p = Path("/x")
    return ContainerView(c, "busybox", (), p, p, p, p, (p,), p, p, p)


def test_network_settings_of_a_bridged_container():
    doc = network_settings_json(view(), NETWORKING)
    assert doc["IPAddress"] == "172.29.0.2" and doc["Gateway"] == "172.29.0.1"
    assert doc["MacAddress"] == EP.mac and doc["IPPrefixLen"] == 16 and doc["EndpointID"] == EP.id
    assert doc["Ports"] == {
        "443/tcp": None,
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
    }
    bridge = doc["Networks"]["bridge"]
    assert bridge["NetworkID"] == NET.id and bridge["IPAddress"] == "172.29.0.2"
    assert bridge["IPAMConfig"] is None and bridge["DNSNames"] is None


def test_network_settings_without_networking():
    doc = network_settings_json(view())
    assert doc["Networks"] == {} and doc["Ports"] == {} and doc["IPAddress"] == ""


def test_summary_ports():
    assert summary_ports(NETWORKING) == [
        {"PrivatePort": 443, "Type": "tcp"},
        {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
    ]


def test_network_json_and_create_body():
    doc = network_json(NET, [EP])
    assert doc["IPAM"] == {
        "Driver": "default",
        "Options": None,
        "Config": [{"Subnet": "172.29.0.0/16", "Gateway": "172.29.0.1"}],
    }
    assert doc["Containers"][EP.container_id]["IPv4Address"] == "172.29.0.2/16"
    assert network_json(NET)["Containers"] == {}
    body = {
        "Name": "front",
        "IPAM": {"Config": [{"Subnet": "10.5.0.0/24", "Gateway": "10.5.0.254"}]},
        "Internal": True,
        "Labels": {"a": "b"},
    }
    assert parse_network_create(body) == NetworkCreate(
        "front", "bridge", "10.5.0.0/24", "10.5.0.254", "", True, {}, {"a": "b"}
    )
    with pytest.raises(InvalidParameter, match="name is required"):
        parse_network_create({})
