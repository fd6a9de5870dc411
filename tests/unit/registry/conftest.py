"""The `client` fixture: an in-process registry on a temporary root."""

from __future__ import annotations

import pytest
from registry_fakes import Client

from dockwright.registry.app import RegistryApp
from dockwright.registry.core import Stores


@pytest.fixture
def client(tmp_path) -> Client:
    return Client(RegistryApp(Stores.open(tmp_path / "root")))
