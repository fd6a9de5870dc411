from __future__ import annotations

import pytest

from dockwright.errors import Conflict, InvalidParameter
from dockwright.network import ipam
from dockwright.network.naming import default_bridge, mac_for, nft_table, veth_name

pytestmark = pytest.mark.unit


def test_allocate_skips_gateway_and_used():
    assert ipam.allocate("10.1.2.0/24", "10.1.2.1", []) == "10.1.2.2"
    assert ipam.allocate("10.1.2.0/24", "10.1.2.1", ["10.1.2.2", "10.1.2.4"]) == "10.1.2.3"


def test_allocate_reuses_a_released_address():
    used = [f"10.1.2.{i}" for i in range(2, 10) if i != 5]
    assert ipam.allocate("10.1.2.0/24", "10.1.2.1", used) == "10.1.2.5"


def test_allocate_requested_address():
    assert ipam.allocate("10.1.2.0/24", "10.1.2.1", [], requested="10.1.2.50") == "10.1.2.50"
    with pytest.raises(Conflict, match="address already in use: 10.1.2.1"):
        ipam.allocate("10.1.2.0/24", "10.1.2.1", [], requested="10.1.2.1")
    with pytest.raises(InvalidParameter, match="does not belong to subnet"):
        ipam.allocate("10.1.2.0/24", "10.1.2.1", [], requested="10.9.9.9")


def test_allocate_within_ip_range_and_exhaustion():
    assert ipam.allocate("10.1.0.0/16", "10.1.0.1", [], ip_range="10.1.5.0/24") == "10.1.5.1"
    with pytest.raises(Conflict, match="no available addresses"):
        ipam.allocate("10.1.2.0/30", "10.1.2.1", ["10.1.2.2"])


def test_choose_subnet_avoids_host_routes_and_other_networks():
    cands = ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    assert ipam.choose_subnet(cands, ["10.0.0.128/25"]) == "10.0.1.0/24"
    assert ipam.choose_subnet(cands, ["10.0.0.0/24", "10.0.1.5/32"]) == "10.0.2.0/24"
    with pytest.raises(Conflict, match="non-overlapping"):
        ipam.choose_subnet(cands, ["10.0.0.0/8"])


def test_default_candidates_differ_per_instance():
    assert ipam.default_candidates("")[0] == "172.29.0.0/16"
    a, b = ipam.default_candidates("aaaa1111"), ipam.default_candidates("bbbb2222")
    assert len(set(a)) == 256 and a[0] != b[0] and set(a) == set(b)


def test_names_never_collide_with_docker():
    assert default_bridge("") == "dw0" and default_bridge("1a2b3c4d") == "dw-1a2b3c4d"
    assert nft_table("") == "dockwright" and nft_table("1a2b3c4d") == "dockwright-1a2b3c4d"
    assert len(veth_name("f" * 64)) <= 15
    assert mac_for("172.17.0.2") == "02:42:ac:11:00:02"
