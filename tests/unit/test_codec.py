import pytest

from dockwright.types.codec import from_plain, to_plain
from dockwright.types.container import (
    Container,
    ContainerConfig,
    HealthConfig,
    HostSettings,
    MountSpec,
    Resources,
    RestartPolicy,
)

pytestmark = pytest.mark.unit


def test_container_round_trip_keeps_nested_types():
    c = Container(
        id="a" * 64,
        name="web",
        created=1.5,
        image_id="sha256:" + "b" * 64,
        config=ContainerConfig(
            image="busybox", cmd=("sh", "-c", "x"), healthcheck=HealthConfig(test=("CMD", "true"))
        ),
        host=HostSettings(
            mounts=(MountSpec(type="bind", source="/a", target="/b"),),
            restart_policy=RestartPolicy("on-failure", 3),
            resources=Resources(memory=1 << 20, pids_limit=10),
        ),
    )
    back = from_plain(Container, to_plain(c))
    assert back == c
    assert isinstance(back.host.mounts[0], MountSpec)
    assert back.config.cmd == ("sh", "-c", "x")


def test_unknown_keys_are_ignored_and_missing_take_defaults():
    cfg = from_plain(ContainerConfig, {"image": "x", "bogus": 1})
    assert cfg == ContainerConfig(image="x")
