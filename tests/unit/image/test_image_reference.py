from __future__ import annotations

import pytest

from dockwright.errors import InvalidParameter
from dockwright.image.reference import parse_any, parse_normalized

pytestmark = pytest.mark.unit

D = "sha256:" + "ab" * 32

NORMALIZED = [
    # input, full normalised form, familiar form
    ("busybox", "docker.io/library/busybox", "busybox"),
    ("busybox:latest", "docker.io/library/busybox:latest", "busybox:latest"),
    ("library/busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("docker.io/library/busybox", "docker.io/library/busybox", "busybox"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox", "busybox"),
    ("user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
    ("docker.io/library/a/b", "docker.io/library/a/b", "library/a/b"),
    ("localhost/app", "localhost/app", "localhost/app"),
    ("localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t"),
    (
        "registry.example.com/team/app",
        "registry.example.com/team/app",
        "registry.example.com/team/app",
    ),
    ("[::1]:5000/app:1", "[::1]:5000/app:1", "[::1]:5000/app:1"),
    ("Registry.Example.com/app", "Registry.Example.com/app", "Registry.Example.com/app"),
    ("a.b/c__d/e---f:T.1-x", "a.b/c__d/e---f:T.1-x", "a.b/c__d/e---f:T.1-x"),
    (f"busybox@{D}", f"docker.io/library/busybox@{D}", f"busybox@{D}"),
    (f"busybox:1@{D}", f"docker.io/library/busybox:1@{D}", f"busybox:1@{D}"),
]


@pytest.mark.parametrize(("text", "full", "familiar"), NORMALIZED)
def test_normalization_and_familiar_form(text, full, familiar):
    ref = parse_normalized(text)
    assert str(ref) == full
    assert ref.familiar() == familiar


ERRORS = [
    ("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
    ("user/App", "invalid reference format: repository name (user/App) must be lowercase"),
    ("", "invalid reference format"),
    ("busybox:", "invalid reference format"),
    ("busy box", "invalid reference format"),
    ("-busybox", "invalid reference format"),
    ("busybox:-tag", "invalid reference format"),
    ("busybox:" + "t" * 129, "invalid reference format"),
    (
        "a" * 64,
        "invalid repository name (" + "a" * 64 + "), cannot specify 64-byte hexadecimal strings",
    ),
    ("x/" + "a" * 255, "repository name must not be more than 255 characters"),
    ("busybox@sha256:abc", "invalid reference format"),
    ("busybox@sha512:" + "a" * 128, "unsupported digest algorithm"),
    ("busybox@sha256:" + "a" * 65, "invalid checksum digest length"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_docker_error_texts(text, message):
    with pytest.raises(InvalidParameter) as err:
        parse_normalized(text)
    assert str(err.value) == message


def test_default_tag_and_with_tag():
    ref = parse_normalized("busybox")
    assert ref.tag is None
    assert str(ref.with_default_tag()) == "docker.io/library/busybox:latest"
    assert str(ref.with_tag("1.0")) == "docker.io/library/busybox:1.0"
    assert parse_normalized(f"busybox@{D}").with_default_tag().tag is None
    with pytest.raises(InvalidParameter, match="invalid tag format"):
        ref.with_tag("bad tag")


def test_parse_any_accepts_ids_and_digests():
    assert parse_any("ab" * 32) == D
    assert parse_any(D) == D
    short = parse_any("sha256:abcd")  # not a full digest: a name "sha256" with tag "abcd"
    assert not isinstance(short, str) and short.familiar() == "sha256:abcd"
    named = parse_any("busybox")
    assert not isinstance(named, str) and named.name == "docker.io/library/busybox"
