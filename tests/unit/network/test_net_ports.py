from __future__ import annotations

import pytest

from dockwright.errors import Conflict, InvalidParameter
from dockwright.network.model import PortMapping
from dockwright.network.ports import EPHEMERAL, PortRequest, assign, requests

pytestmark = pytest.mark.unit


def always(proto: str, ip: str, port: int) -> bool:
    return True


def test_requests_from_bindings():
    got = requests(
        {
            "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
            "53/udp": [{"HostIp": "", "HostPort": ""}],
            "90/tcp": [{"HostPort": "9000-9005"}, {"HostIp": "::", "HostPort": "9100"}],
        },
        (),
        False,
    )
    assert got == [
        PortRequest("udp", 53, "", 0, 0),
        PortRequest("tcp", 80, "127.0.0.1", 8080, 8080),
        PortRequest("tcp", 90, "", 9000, 9005),
        PortRequest("tcp", 90, "::", 9100, 9100),  # every IPv6 address
    ]


def test_publish_all_adds_the_unbound_exposed_ports():
    got = requests({"80/tcp": [{"HostPort": "8080"}]}, ("80/tcp", "443/tcp"), True)
    assert got == [PortRequest("tcp", 80, "", 8080, 8080), PortRequest("tcp", 443, "", 0, 0)]
    assert requests({}, ("443/tcp",), False) == []


@pytest.mark.parametrize(
    "bindings",
    [{"80/xyz": []}, {"http": []}, {"80/tcp": [{"HostPort": "abc"}]}, {"80": [{"HostIp": "x"}]}],
)
def test_bad_bindings(bindings):
    with pytest.raises(InvalidParameter):
        requests(bindings, (), False)


def test_assign_ephemeral_skips_held_and_busy_ports():
    held = [PortMapping("tcp", 80, "", EPHEMERAL[0])]
    busy = {EPHEMERAL[0] + 1}
    got = assign(
        [PortRequest("tcp", 80, "", 0, 0), PortRequest("udp", 80, "", 0, 0)],
        held,
        lambda proto, ip, port: port not in busy,
    )
    assert got == (
        PortMapping("tcp", 80, "", EPHEMERAL[0] + 2),
        PortMapping("udp", 80, "", EPHEMERAL[0]),
    )


def test_assign_fixed_port_conflicts_like_docker():
    held = [PortMapping("tcp", 80, "", 8080)]
    with pytest.raises(Conflict, match="bind for 0.0.0.0:8080 failed: port is already allocated"):
        assign([PortRequest("tcp", 80, "", 8080, 8080)], held, always)
    # another address on the same port is fine when neither is the wildcard
    ok = assign(
        [PortRequest("tcp", 80, "127.0.0.2", 8080, 8080)],
        [PortMapping("tcp", 80, "127.0.0.1", 8080)],
        always,
    )
    assert ok == (PortMapping("tcp", 80, "127.0.0.2", 8080),)


def test_assign_range_takes_the_first_free_port():
    got = assign([PortRequest("tcp", 80, "", 9000, 9002)], [], lambda p, i, port: port != 9000)
    assert got == (PortMapping("tcp", 80, "", 9001),)
