"""A stand-in for asyncio.start_server: records the [::1] listeners the service asks for."""

from __future__ import annotations

from typing import Any


class FakeServer:
    def __init__(self, owner: FakeListen, port: int) -> None:
        self.owner, self.port = owner, port

    def close(self) -> None:
        self.owner.open.discard(self.port)


class FakeListen:
    def __init__(self) -> None:
        self.open: set[int] = set()

    async def __call__(self, handler: Any, host: str, port: int) -> FakeServer:
        assert host == "::1"
        self.open.add(port)
        return FakeServer(self, port)
