"""The nft script is a golden file: DW_UPDATE_GOLDEN=1 rewrites it after a deliberate change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockwright.errors import SystemError_
from dockwright.kernel.netlink_fake import RecordingLinks
from dockwright.network.bridge import Executor, Op, plan_join, plan_leave, plan_network
from dockwright.network.model import Endpoint, Network, PortMapping
from dockwright.network.nftrules import RuleInput, delete, render

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent / "golden"

DEFAULT = Network("n1", "bridge", "bridge", "dw0", "172.29.0.0/16", "172.29.0.1", default=True)
INTERNAL = Network("n2", "back", "bridge", "dwbr-n2", "10.214.0.0/24", "10.214.0.1", internal=True)
WEB = Endpoint(
    "e1", "n1", "c1", "web", "dwve1", "172.29.0.2", 16, "172.29.0.1", "02:42:ac:1d:00:02",
    ports=(PortMapping("tcp", 80, "127.0.0.1", 8080), PortMapping("udp", 53, "", 5353)),
)  # fmt: skip


DUAL = Network(
    "n3",
    "dual",
    "bridge",
    "dwbr-n3",
    "10.214.1.0/24",
    "10.214.1.1",
    subnet6="fd00:3::/64",
    gateway6="fd00:3::1",
    options={"com.docker.network.bridge.enable_icc": "false"},
)
APP = [
    Endpoint(
        f"e{i}", "n3", f"c{i}", f"app{i}", f"dwve{i}", f"10.214.1.{i}", 24, "10.214.1.1",
        "02:42:0a:d6:01:0{i}", ports=(PortMapping("tcp", 80, "", 9000 + i),),
        ip6=f"fd00:3::{i}", prefixlen6=64, gateway6="fd00:3::1",
    )
    for i in (2, 3)
]  # fmt: skip


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DW_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_ruleset_golden():
    data = RuleInput((DEFAULT, INTERNAL, DUAL), (WEB, *APP), egress=False)
    check_golden("ruleset.nft", render("dockwright", data))


def test_delete_is_idempotent_script():
    assert delete("t") == "".join(
        f"table {f} t {{}}\ndelete table {f} t\n" for f in ("ip", "ip6", "bridge")
    )


def test_plans_as_data():
    assert plan_network(DEFAULT) == [
        Op("ensure_bridge", ("dw0", "172.29.0.1", 16, 1500)),
        Op("set_sysctl", ("net.ipv4.conf.dw0.route_localnet", "1")),
        Op("set_sysctl", ("net.ipv4.conf.dw0.forwarding", "1")),
    ]
    ns = "/proc/42/ns/net"
    assert plan_join(DEFAULT, WEB, ns) == [
        Op("add_veth", ("dwve1", "dw0", ns, 1500, "eth0")),
        Op("configure_container_side", (ns, "eth0", "172.29.0.2", 16, "172.29.0.1", WEB.mac)),
    ]
    assert plan_leave(WEB) == [Op("delete_link", ("dwve1",))]


def test_executor_undoes_a_failed_join():
    links = RecordingLinks(fail_on="configure_container_side")
    with pytest.raises(SystemError_):
        Executor(links).run(plan_join(DEFAULT, WEB, "/proc/42/ns/net"))
    assert links.kinds() == ["add_veth", "configure_container_side", "delete_link"]
    assert links.links == set()
