"""The `net` fixture: one NetDaemon with busybox per test module (a module that needs other daemon
settings defines its own `net`, as test_dual_stack does)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.integration.conftest import bootstrap_busybox
from tests.integration.network.netdaemon import NetDaemon


@pytest.fixture(scope="module")
def net() -> Iterator[NetDaemon]:
    n = NetDaemon()
    try:
        bootstrap_busybox(n.d)
        yield n
    finally:
        n.cleanup()
