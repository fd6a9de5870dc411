"""The [::1] relay of published ports: which listeners an endpoint needs, and a real relay
between two loopback sockets."""

from __future__ import annotations

import asyncio
import socket

import pytest

from dockwright.network.model import Endpoint, PortMapping
from dockwright.network.proxy import LoopbackProxies, Relay, relays_for
from dockwright.testing.proxy_fake import FakeListen

pytestmark = pytest.mark.unit


def endpoint(*ports: PortMapping, ip6: str = "") -> Endpoint:
    return Endpoint(
        "e" * 64, "n", "c", "web", "dwv", "127.0.0.1", 8, "", "", ports=ports, ip6=ip6
    )  # fmt: skip


def test_relays_only_for_tcp_ports_on_every_or_loopback6_address():
    ep = endpoint(
        PortMapping("tcp", 80, "", 8080),
        PortMapping("tcp", 81, "::1", 8081),
        PortMapping("tcp", 82, "::", 8082),
        PortMapping("tcp", 83, "127.0.0.1", 8083),
        PortMapping("udp", 53, "", 5353),
    )
    assert relays_for(ep) == [
        Relay(8080, "127.0.0.1", 80),
        Relay(8081, "127.0.0.1", 81),
        Relay(8082, "127.0.0.1", 82),
    ]
    assert relays_for(endpoint(PortMapping("tcp", 80, "", 1), ip6="fd00::2"))[0].target == (
        "fd00::2"
    )


def test_listeners_follow_start_and_stop():
    async def scenario() -> None:
        listen = FakeListen()
        proxies = LoopbackProxies(listen)
        ep = endpoint(PortMapping("tcp", 80, "", 8080))
        await proxies.start(ep)
        await proxies.start(ep)  # idempotent
        assert listen.open == {8080}
        proxies.stop(ep.id)
        assert listen.open == set()
        await proxies.close()

    asyncio.run(scenario())


def free_port(family: socket.AddressFamily, host: str) -> int:
    with socket.socket(family) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def test_a_real_relay_from_loopback6_to_the_target():
    async def scenario() -> None:
        async def upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write((await reader.read(100)).upper())
            await writer.drain()
            writer.close()

        target = await asyncio.start_server(upper, "127.0.0.1", 0)
        port = target.sockets[0].getsockname()[1]
        host_port = free_port(socket.AF_INET6, "::1")
        proxies = LoopbackProxies()
        ep = endpoint(PortMapping("tcp", port, "", host_port))
        await proxies.start(ep)
        reader, writer = await asyncio.open_connection("::1", host_port)
        writer.write(b"hello")
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 5) == b"HELLO"
        writer.close()
        proxies.stop(ep.id)
        with pytest.raises(OSError):
            await asyncio.open_connection("::1", host_port)
        await proxies.close()
        target.close()
        await target.wait_closed()

    asyncio.run(scenario())
