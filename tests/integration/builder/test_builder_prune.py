"""`builder prune` with filters, `all` and `keep-storage`, and `system df -v`'s build cache
rows, against a real dockwrightd: the API, our CLI and the real docker CLI (28.x, legacy
builder). Every test starts and ends with an empty build cache."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.integration.builder.test_build_cache import DOCKWRIGHT
from tests.integration.builder.test_build_polish import container_events

pytestmark = pytest.mark.integration


def build(daemon, ctx: Path, dockerfile: str, *args: str) -> None:
    (ctx / "Dockerfile").write_text(dockerfile)
    r = daemon.docker("build", *args, str(ctx))
    assert r.returncode == 0, r.stdout + r.stderr


def cache(daemon) -> list[dict]:
    status, body = daemon.request("GET", "/system/df?type=build-cache")
    assert status == 200, body
    return json.loads(body)["BuildCache"]


def prune(daemon, status: int = 200, filters: dict | None = None, **params) -> dict:
    query = {**params, "filters": json.dumps({k: {v: True} for k, v in (filters or {}).items()})}
    got, body = daemon.request("POST", "/build/prune?" + urlencode(query))
    assert got == status, body
    return json.loads(body)


def described(daemon) -> dict[str, dict]:
    return {r["Description"]: r for r in cache(daemon)}


def ours(daemon, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": daemon.host}
    return subprocess.run([str(DOCKWRIGHT), *args], capture_output=True, text=True, env=env,
                          input=input, timeout=60)  # fmt: skip


def df_rows(out: str) -> list[list[str]]:
    """The build cache rows of `system df -v`, split on blanks."""
    section = out[out.index("Build cache usage:") :].splitlines()[3:]
    return [line.split() for line in section if line.strip()]


@pytest.fixture(autouse=True)
def empty_cache(daemon):
    prune(daemon, all="1")
    yield
    prune(daemon, all="1")


def test_each_filter_prunes_only_what_it_names(daemon, tmp_path):
    build(daemon, tmp_path, "FROM busybox\n"
          "RUN --mount=type=cache,target=/c,id=pf-mount echo m > /c/m\n"
          "RUN echo pf-one > /one\nRUN echo pf-two > /two\n")  # fmt: skip
    steps = described(daemon)
    one, two = steps["RUN echo pf-one > /one"], steps["RUN echo pf-two > /two"]
    (first,) = [r for r in cache(daemon) if r["Description"].startswith("RUN --mount")]
    images = len(daemon.docker("images", "-aq").stdout.split())

    assert prune(daemon, filters={"inuse": "true"})["CachesDeleted"] == []
    assert prune(daemon, filters={"until": "1h"})["CachesDeleted"] == []  # all used just now
    assert prune(daemon, filters={"id": one["ID"]})["CachesDeleted"] == []  # two is built on it
    assert prune(daemon, filters={"type": "exec.cachemount"})["CachesDeleted"] == ["pf-mount"]
    report = prune(daemon, filters={"parent": one["ID"]})
    assert report["CachesDeleted"] == [two["ID"]] and report["SpaceReclaimed"] > 0
    assert prune(daemon, filters={"id": one["ID"][:20]})["CachesDeleted"] == [one["ID"]]
    assert [r["ID"] for r in cache(daemon)] == [first["ID"]]
    assert len(daemon.docker("images", "-aq").stdout.split()) == images - 2  # their images
    assert prune(daemon, filters={"description": "RUN"})["CachesDeleted"] == []
    soon = datetime.fromtimestamp(time.time() + 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert prune(daemon, filters={"until": soon})["CachesDeleted"] == [first["ID"]]
    assert cache(daemon) == []


def reclaimable(out: str) -> str:
    """`system df`'s Build Cache RECLAIMABLE column."""
    return next(line for line in out.splitlines() if line.startswith("Build Cache")).split()[5]


def test_shared_records_free_nothing_and_df_agrees_before_and_after(daemon, tmp_path):
    build(daemon, tmp_path, "FROM busybox\nRUN echo pf-shared > /s\n", "-t", "pf:tagged")
    build(daemon, tmp_path, "FROM busybox\nRUN dd if=/dev/zero of=/d bs=1k count=200\n")
    try:
        records = cache(daemon)
        unshared = sum(r["Size"] for r in records if not r["Shared"])
        before = reclaimable(daemon.docker("system", "df").stdout)
        assert before.endswith("kB") and float(before[:-2]) * 1000 >= 200 * 1024 * 0.99

        report = prune(daemon, filters={"shared": "true"})
        assert report["CachesDeleted"] == [] and report["SpaceReclaimed"] == 0  # kept w/o all
        report = prune(daemon, filters={"shared": "true"}, all="1")
        assert len(report["CachesDeleted"]) == 1 and report["SpaceReclaimed"] == 0
        assert reclaimable(daemon.docker("system", "df").stdout) == before
        assert daemon.docker("run", "--rm", "pf:tagged", "cat", "/s").stdout == "pf-shared\n"

        since = time.time()
        report = prune(daemon, filters={"private": "1"})
        assert report["SpaceReclaimed"] == unshared
        assert reclaimable(daemon.docker("system", "df").stdout) == "0B"
        [event] = container_events(daemon, since, "builder")  # the spec: "Builder reports prune"
        assert (event["Action"], event["Actor"]["Attributes"]) == (
            "prune", {"reclaimed": str(unshared)}
        )  # fmt: skip
    finally:
        daemon.docker("rmi", "pf:tagged")


def test_keep_storage_keeps_the_most_recently_used(daemon, tmp_path):
    files = {n: f"FROM busybox\nRUN dd if=/dev/zero of=/k{n} bs=1k count={90 + n}\n" for n in (1, 2, 3)}  # fmt: skip
    for n in (1, 2, 3):
        build(daemon, tmp_path, files[n])
    build(daemon, tmp_path, files[1])  # a hit: k1 is now the most recently used
    size = {int(r["Description"].split()[-1][6:]) - 90: r for r in cache(daemon)}
    assert size[1]["UsageCount"] == 2

    keep = size[1]["Size"] + size[3]["Size"]
    report = prune(daemon, **{"keep-storage": str(keep)})
    assert report["CachesDeleted"] == [size[2]["ID"]]
    assert report["SpaceReclaimed"] == size[2]["Size"]
    out = ours(daemon, "builder", "prune", "-f", "--keep-storage", str(size[1]["Size"]))
    assert out.returncode == 0, out.stderr
    assert out.stdout == (f"Deleted build cache objects:\n{size[3]['ID']}\n\n"
                          f"Total reclaimed space: {reclaimable_text(size[3]['Size'])}\n")  # fmt: skip
    assert [r["ID"] for r in cache(daemon)] == [size[1]["ID"]]


def reclaimable_text(n: int) -> str:
    from dockwright.cli.units import human_size

    return human_size(n)


BAD = [
    ({"filters": json.dumps({"foo": {"x": True}})},
     "failed to prune build cache: invalid filter 'foo'"),
    ({"filters": json.dumps({"until": {"soon": True}})},
     "failed to prune build cache: \"until\" filter expects a duration (e.g., '24h') or a "
     'timestamp: failed to parse value as time or duration: "soon"'),
    ({"keep-storage": "1g"},
     'keep-storage is in bytes and expects an integer, got 1g: strconv.Atoi: parsing "1g": '
     "invalid syntax"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "message"), BAD)
def test_bad_arguments_are_400_with_dockerd_messages(daemon, query, message):
    status, body = daemon.request("POST", "/build/prune?" + urlencode(query))
    assert (status, json.loads(body)) == (400, {"message": message})


def test_the_docker_cli(daemon, tmp_path):
    build(daemon, tmp_path, "FROM busybox\nRUN --mount=type=cache,target=/c,id=pf-cli "
          "dd if=/dev/zero of=/c/f bs=1k count=50\n")  # fmt: skip
    bad = daemon.docker("builder", "prune", "-f", "--filter", "foo=bar")
    assert bad.returncode == 1
    assert "Error response from daemon: failed to prune build cache: invalid filter 'foo'" in (
        bad.stderr
    )
    kept = daemon.docker("builder", "prune", "-a", "-f", "--keep-storage", "1gb",
                         "--filter", "until=24h")  # fmt: skip
    assert kept.returncode == 0 and kept.stdout == "Total reclaimed space: 0B\n", kept.stderr
    (mount,) = [r for r in cache(daemon) if r["ID"] == "pf-cli"]
    pruned = daemon.docker("builder", "prune", "-f", "--filter", "type=exec.cachemount")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout == (f"Deleted build cache objects:\npf-cli\n\n"
                             f"Total reclaimed space: {reclaimable_text(mount['Size'])}\n")  # fmt: skip
    assert len(cache(daemon)) == 1


def test_the_prompt_is_dockers(daemon, tmp_path):
    build(daemon, tmp_path, "FROM busybox\nRUN echo pf-prompt > /p\n")
    for args in ([], ["-a"]):
        theirs = daemon.docker("builder", "prune", *args, input=b"n\n")
        mine = ours(daemon, "builder", "prune", *args, input="n\n")
        assert (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout.decode())
        assert mine.stdout.endswith("Are you sure you want to continue? [y/N] ")
    assert len(cache(daemon)) == 1
    yes = ours(daemon, "builder", "prune", input="y\n")
    assert "Deleted build cache objects:" in yes.stdout and cache(daemon) == []


def test_system_df_v_rows_in_the_docker_cli_order(daemon, tmp_path):
    a = "FROM busybox\nRUN echo pf-a1 > /a1\nRUN --mount=type=cache,target=/c,id=pf-order true\n"
    build(daemon, tmp_path, a)
    build(daemon, tmp_path, "FROM busybox\nRUN echo pf-b > /b\n")
    build(daemon, tmp_path, a)  # hits: a's steps are now used after b's
    records = cache(daemon)
    lru = sorted(records, key=lambda r: datetime.fromisoformat(r["LastUsedAt"]))  # all used
    assert [r["ID"] for r in lru] != [r["ID"] for r in records]  # the API's order is not it
    docker_rows = df_rows(daemon.docker("system", "df", "-v").stdout)
    our_rows = df_rows(ours(daemon, "system", "df", "-v").stdout)
    assert [r[0] for r in our_rows] == [r[0] for r in docker_rows]
    assert [r[0] for r in docker_rows] == [r["ID"][:12] for r in lru]
    assert [r[1] for r in our_rows] == [r[1] for r in docker_rows]  # CACHE TYPE
    assert [r[2] for r in our_rows] == [r[2] for r in docker_rows]  # SIZE
    assert [r[-2:] for r in our_rows] == [r[-2:] for r in docker_rows]  # USAGE SHARED


def test_docker_py_prune_builds(daemon, tmp_path):
    build(daemon, tmp_path, "FROM busybox\nRUN --mount=type=cache,target=/c,id=pf-py true\n"
          "RUN echo pf-py > /p\n")  # fmt: skip
    client = daemon.client()
    try:
        report = client.api.prune_builds(filters={"type": "exec.cachemount"})  # the list form
        assert report["CachesDeleted"] == ["pf-py"]
        assert [r["Type"] for r in cache(daemon)] == ["regular", "regular"]
    finally:
        client.close()
