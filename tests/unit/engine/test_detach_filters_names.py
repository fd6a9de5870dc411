import random

import pytest

from dockwright.engine.containers import filters as flt
from dockwright.engine.containers.detach import DetachScanner, parse_detach_keys
from dockwright.engine.names import random_name
from dockwright.errors import InvalidParameter
from dockwright.types.container import Container, ContainerConfig, ContainerState, HostSettings

pytestmark = pytest.mark.unit


def test_detach_keys_parse():
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("a,ctrl-@") == b"a\x00"
    with pytest.raises(InvalidParameter):
        parse_detach_keys("ctrl-1")


def test_scanner_detects_split_sequence_and_forwards_false_starts():
    s = DetachScanner(b"\x10\x11")
    assert s.feed(b"ab\x10") == b"ab"
    assert s.feed(b"x") == b"\x10x"
    assert not s.detached
    assert s.feed(b"\x10") == b""
    assert s.feed(b"\x11rest") == b""
    assert s.detached


def test_random_names_avoid_taken_ones():
    taken = set()
    rng = random.Random(1)
    for _ in range(50):
        name = random_name(taken.__contains__, rng)
        assert name not in taken and "_" in name
        taken.add(name)


class _Images:
    def resolve(self, ref):
        if ref == "busybox":
            return "sha256:img", {}
        raise LookupError(ref)


def _c(cid, name, status, code=0, labels=None, created=0.0):
    return Container(
        id=cid,
        name=name,
        created=created,
        image_id="sha256:img",
        config=ContainerConfig(image="busybox", labels=labels or {}),
        host=HostSettings(),
        state=ContainerState(status=status, exit_code=code),
    )


def test_list_filters():
    web = _c("abc1", "web", "running", labels={"tier": "front"}, created=2)
    job = _c("def2", "job", "exited", code=3, created=1)
    created_of = {"web": 2.0, "job": 1.0}.__getitem__
    m = lambda c, f: flt.matches(c, f, _Images(), created_of)  # noqa: E731
    assert m(web, {"label": ["tier=front"]}) and not m(job, {"label": ["tier"]})
    assert m(job, {"exited": ["3"]}) and not m(web, {"exited": ["3"]})
    assert m(web, {"status": ["running", "paused"]})
    assert m(job, {"name": ["jo"]}) and m(web, {"id": ["abc"]})
    assert m(web, {"ancestor": ["busybox"]}) and not m(web, {"ancestor": ["alpine"]})
    assert (
        m(web, {"since": ["job"]})
        and m(job, {"before": ["web"]})
        and not m(job, {"since": ["web"]})
    )
    assert not m(web, {"label!": ["tier"]})


def test_filter_validation():
    with pytest.raises(InvalidParameter, match="invalid filter 'colour'"):
        flt.check({"colour": ["red"]})
    with pytest.raises(InvalidParameter):
        flt.check({"status": ["sleeping"]})
