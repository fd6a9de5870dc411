"""Fixtures for the API tests: `serve(routes)` runs the real server on a temp unix socket."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from api_wire import RunningApi

from dockwright.api.router import Route


@pytest.fixture
def serve() -> Iterator[Callable[..., RunningApi]]:
    """`serve(routes)` starts a server; every server started is closed at teardown."""
    started: list[RunningApi] = []

    def start(routes: list[Route], hosts: list[str] | None = None) -> RunningApi:
        api = RunningApi(routes, hosts)
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()
