"""Docker's network filters, including the negated label filter prune takes."""

from __future__ import annotations

import pytest

from dockwright.errors import InvalidParameter
from dockwright.network.filters import matches
from dockwright.network.model import Network

pytestmark = pytest.mark.unit

KEPT = Network("a" * 64, "kept", "bridge", "b1", "10.1.0.0/24", "10.1.0.1", labels={"t": "cli"})
IDLE = Network("b" * 64, "idle", "bridge", "b2", "10.2.0.0/24", "10.2.0.1", labels={"t": "x"})


def names(filters: dict[str, list[str]]) -> list[str]:
    return [n.name for n in (KEPT, IDLE) if matches(n, filters, lambda n: False)]


def test_label_and_negated_label():
    assert names({"label": ["t=cli"]}) == ["kept"]
    assert names({"label!": ["t=cli"]}) == ["idle"]
    assert names({"label!": ["t"]}) == []
    assert names({"label!": ["t=cli", "t=x"]}) == []
    assert names({"label": ["t"], "label!": ["t=x"]}) == ["kept"]
    with pytest.raises(InvalidParameter, match="invalid filter 'colour'"):
        names({"colour": ["red"]})
