"""`ps` and `images` rows: docker's columns, truncation and JSON (golden text)."""

from __future__ import annotations

import json

import pytest

from dockwright.cli.formatter import render_items
from dockwright.cli.views import (
    IMAGES_HEADER,
    IMAGES_TABLE,
    PS_HEADER,
    PS_TABLE,
    ContainerView,
    display_ports,
    ellipsis,
    image_rows,
)

pytestmark = pytest.mark.unit

NOW = 1_700_000_100.0
C = {
    "Id": "4d0b3c1a2e3f" + "0" * 52,
    "Names": ["/web"],
    "Image": "busybox",
    "Command": "sh -c 'while true; do sleep 1; done'",
    "Created": 1_700_000_000,
    "Ports": [],
    "Labels": {"b": "2", "a": "1"},
    "State": "running",
    "Status": "Up About a minute",
    "Mounts": [{"Source": "/srv/data/very-long-name", "Driver": ""}],
}


def test_ps_table_golden() -> None:
    out = render_items(PS_TABLE, [ContainerView(C, now=NOW)], PS_HEADER)
    assert out == (
        "CONTAINER ID   IMAGE     COMMAND                  CREATED              STATUS              PORTS     NAMES\n"
        '4d0b3c1a2e3f   busybox   "sh -c \'while true; …"   About a minute ago   Up About a minute             web\n'
    )


def test_no_trunc_keeps_everything() -> None:
    v = ContainerView(C, trunc=False, now=NOW)
    assert C["Id"] == v.ID
    assert v.Command == "\"sh -c 'while true; do sleep 1; done'\""
    assert v.Mounts == "/srv/data/very-long-name"


def test_fields() -> None:
    v = ContainerView(C, now=NOW)
    assert v.Labels == "a=1,b=2"
    assert v.Label("b") == "2"
    assert v.Mounts == "/srv/data/very…"
    assert v.LocalVolumes == "0"
    assert v.Size == "0B"


def test_json_has_all_fields_sorted() -> None:
    data = json.loads(render_items("{{json .}}", [ContainerView(C, now=NOW)], PS_HEADER))
    assert list(data) == sorted(PS_HEADER)
    assert data["Names"] == "web"


def test_ports_column() -> None:
    ports = [
        {"PrivatePort": 80, "PublicPort": 8080, "IP": "0.0.0.0", "Type": "tcp"},
        {"PrivatePort": 53, "Type": "udp"},
    ]
    assert display_ports(ports) == "53/udp, 0.0.0.0:8080->80/tcp"


def test_ellipsis() -> None:
    assert ellipsis("abcdef", 4) == "abc…"
    assert ellipsis("abc", 4) == "abc"


def test_images_rows_and_table() -> None:
    images = [
        {
            "Id": "sha256:" + "e9" * 32,
            "RepoTags": ["busybox:latest", "bb:1"],
            "Created": 1_700_000_000,
            "Size": 1_990_000,
        },
        {"Id": "sha256:" + "aa" * 32, "RepoTags": [], "Created": 1_699_000_000, "Size": 10},
    ]
    rows = image_rows(images, now=NOW)
    assert [(r.Repository, r.Tag) for r in rows] == [
        ("busybox", "latest"),
        ("bb", "1"),
        ("<none>", "<none>"),
    ]
    out = render_items(IMAGES_TABLE, rows, IMAGES_HEADER)
    assert out.splitlines()[0] == "REPOSITORY   TAG       IMAGE ID       CREATED              SIZE"
    assert (
        out.splitlines()[1] == "busybox      latest    e9e9e9e9e9e9   About a minute ago   1.99MB"
    )
