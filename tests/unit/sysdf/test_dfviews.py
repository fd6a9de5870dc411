"""`system df` output from a `/system/df` answer: summary rows, `-v` sections, formats."""

from __future__ import annotations

import io
from typing import Any

import pytest

from dockwright.cli import dfviews
from dockwright.cli.cmd_df import verbose_text
from dockwright.cli.formatter import render_items

pytestmark = pytest.mark.unit

NOW = 1_700_000_000.0
MB = 1_000_000


def image(ident: str, size: int, shared: int, containers: int, tags: list[str]) -> dict[str, Any]:
    return {"Id": "sha256:" + ident * 64, "Size": size, "SharedSize": shared,
            "Containers": containers, "RepoTags": tags, "Created": NOW - 7200}  # fmt: skip


def container(ident: str, state: str, size_rw: int) -> dict[str, Any]:
    return {"Id": ident * 64, "Names": ["/c" + ident], "Image": "busybox", "State": state,
            "Status": "Up 2 hours" if state == "running" else "Exited (0) 1 hour ago",
            "Command": "sh -c 'sleep 1000; echo done'", "Created": NOW - 7200,
            "SizeRw": size_rw, "SizeRootFs": size_rw + 2 * MB, "Mounts": []}  # fmt: skip


DU: dict[str, Any] = {
    "LayersSize": 5 * MB,
    "Images": [
        image("a", 3 * MB, 1 * MB, 1, ["busybox:latest"]),
        image("b", 3 * MB, 1 * MB, 0, ["app:1", "app:2"]),
        image("c", 500, 0, 0, []),
    ],
    "Containers": [container("1", "running", 1000), container("2", "exited", 3000)],
    "Volumes": [],
    "BuildCache": [],
}


def test_summary_table() -> None:
    text = render_items(dfviews.DF_TABLE, dfviews.summary_rows(DU), dfviews.DF_HEADER)
    assert text == (
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"
        "Images          3         1         5MB       3MB (60%)\n"
        "Containers      2         1         4kB       3kB (75%)\n"
        "Local Volumes   0         0         0B        0B\n"
        "Build Cache     0         0         0B        0B\n"
    )


def test_json_rows_have_sorted_keys() -> None:
    text = render_items("{{json .}}", dfviews.summary_rows(DU)[:1], dfviews.DF_HEADER)
    assert text == (
        '{"Active":"1","Reclaimable":"3MB (60%)","Size":"5MB","TotalCount":"3","Type":"Images"}\n'
    )


def test_empty_daemon() -> None:
    rows = dfviews.summary_rows({"LayersSize": 0})
    assert [(r["Type"], r["Size"], r["Reclaimable"]) for r in rows] == [
        ("Images", "0B", "0B"), ("Containers", "0B", "0B"),
        ("Local Volumes", "0B", "0B"), ("Build Cache", "0B", "0B"),
    ]  # fmt: skip


def test_volumes_count_only_unreferenced_as_reclaimable() -> None:
    du = {"Volumes": [{"Name": "v1", "UsageData": {"Size": 100, "RefCount": 1}},
                      {"Name": "v2", "UsageData": {"Size": 300, "RefCount": 0}}]}  # fmt: skip
    row = dfviews.volumes_row(du)
    assert (row["TotalCount"], row["Active"], row["Size"], row["Reclaimable"]) == (
        "2", "1", "400B", "300B (75%)",
    )  # fmt: skip


def test_verbose_sections() -> None:
    out = verbose_text(DU, NOW)
    sections = out.split("\n\n")
    assert sections[0] == "Images space usage:"
    lines = out.splitlines()
    assert lines[2].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE", "SHARED",
                                "SIZE", "UNIQUE", "SIZE", "CONTAINERS"]  # fmt: skip
    assert lines[3].split() == ["busybox", "latest", "a" * 12, "2", "hours", "ago", "3MB", "1MB",
                                "2MB", "1"]  # fmt: skip
    assert lines[4].split()[:2] == ["app", "1"]  # only the first tag
    assert lines[5].split()[:2] == ["<none>", "<none>"]
    assert "Containers space usage:" in out
    assert '"sh -c \'sleep 1000; …"   0               3kB' in out  # no virtual size
    assert out.endswith("Build cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   "
                        "LAST USED   USAGE     SHARED\n")  # fmt: skip


def test_verbose_json_rows_are_not_truncated() -> None:
    data = dfviews.verbose_json(DU, NOW)
    assert data["Images"][0]["ID"] == "sha256:" + "a" * 64
    assert data["Images"][0]["Digest"] == ""
    assert data["Containers"][1]["ID"] == "2" * 64
    assert data["Containers"][1]["Size"] == "3kB"
    assert "Platform" in data["Containers"][0]
    assert data["Volumes"] == [] and data["BuildCache"] == []


def test_unique_size_uses_four_digits() -> None:
    view = dfviews.DiskImageView(image("d", 1_986_000, 0, 0, []), "<none>", "<none>", now=NOW)
    assert (view.Size, view.UniqueSize, view.SharedSize) == ("1.99MB", "1.986MB", "0B")


def test_df_command_via_fake_client() -> None:
    from dockwright.cli.cmd_df import df

    class Client:
        def get(self, path: str) -> dict[str, Any]:
            assert path == "/system/df"
            return DU

    class Ctx:
        client = Client()
        stdout = io.StringIO()

    class P:
        opts = {"format": "{{.Type}}:{{.TotalCount}}", "verbose": False}

    assert df(Ctx(), P()) == 0  # type: ignore[arg-type]
    assert Ctx.stdout.getvalue() == "Images:3\nContainers:2\nLocal Volumes:0\nBuild Cache:0\n"
