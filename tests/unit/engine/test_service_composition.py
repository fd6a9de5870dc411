import inspect

import pytest

from dockwright.engine.containers.base import ContainerBase
from dockwright.engine.containers.service import ContainerService

pytestmark = pytest.mark.unit


def test_every_declared_part_is_implemented_by_a_mixin():
    """ContainerBase declares what the mixins provide each other; none may stay a stub."""
    stubs = [
        name
        for name, fn in vars(ContainerBase).items()
        if inspect.isfunction(fn) and "raise NotImplementedError" in inspect.getsource(fn)
    ]
    assert stubs
    for name in stubs:
        owner = next(k for k in ContainerService.__mro__ if name in vars(k))
        assert owner is not ContainerBase, f"{name} is only a stub"
