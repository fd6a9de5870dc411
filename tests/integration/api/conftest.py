"""Run the real ApiServer on a temp unix socket in a background loop, for real clients."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from dockwright.api.router import Route, Router
from dockwright.api.server import ApiServer


class ApiThread:
    """A started ApiServer on its own loop thread; `stop()` closes it and joins the thread."""

    def __init__(self, routes: list[Route]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dw-api-", dir="/tmp"))
        self.path = str(self.dir / "api.sock")
        self.url = f"unix://{self.path}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: ApiServer = self.call(self._start(routes))

    async def _start(self, routes: list[Route]) -> ApiServer:
        server = ApiServer(Router(routes))
        await server.start([self.url])
        return server

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        try:
            self.call(self.server.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def serve_api() -> Iterator[Callable[[list[Route]], ApiThread]]:
    started: list[ApiThread] = []

    def start(routes: list[Route]) -> ApiThread:
        api = ApiThread(routes)
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()
