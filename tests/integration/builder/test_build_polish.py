"""Builder polish against a real dockwrightd: the whole Dockerfile is checked before any step
runs; `system df` lists cache mounts and its RECLAIMABLE is what `builder prune` frees; a cache
miss names bind-mounted context files; ONBUILD triggers are steps of their own."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from urllib.parse import urlencode

import pytest

from tests.integration.builder.test_build_cache import dockwright, plain

pytestmark = pytest.mark.integration


def container_events(daemon, since: float, kind: str = "container") -> list[dict]:
    query = urlencode({"since": since, "until": time.time() + 0.1,
                       "filters": json.dumps({"type": [kind]})})  # fmt: skip
    status, body = daemon.request("GET", f"/events?{query}")
    assert status == 200, body
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


BAD = [
    ("RUN --mount=type=cache,target=/c,size=1m true",
     "unexpected key 'size' for mount type 'cache'"),
    ("COPY --chmod=u+rwx a /b", "invalid chmod parameter 'u+rwx'"),
    ("COPY --from=later /x /y", "invalid from flag value later: pull access denied for later"),
    ("COPY --from=1 /x /y", "invalid from flag value 1: index out of bounds"),
    ("RUN --network=bridge true", "unsupported network mode 'bridge'"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "message"), BAD)
def test_a_bad_line_fails_the_build_before_any_step(daemon, tmp_path, line, message):
    (tmp_path / "a").write_text("a\n")
    (tmp_path / "Dockerfile").write_text(  # the last stage needs the first: it would run
        f"FROM busybox\nRUN echo first-step-ran\n{line}\n"
        "FROM busybox AS later\nCOPY --from=0 /etc/hostname /h\n"
    )
    since = time.time()
    legacy = daemon.docker("build", str(tmp_path))
    assert legacy.returncode != 0
    assert message in legacy.stdout + legacy.stderr, legacy.stdout + legacy.stderr
    assert "Step 1/" not in legacy.stdout and "first-step-ran" not in legacy.stdout
    ours = dockwright(daemon, "build", "--progress=plain", str(tmp_path))
    assert ours.returncode != 0 and message in ours.stderr, ours.stdout + ours.stderr
    assert "#1 " not in ours.stderr  # not even FROM started
    assert container_events(daemon, since) == []


def test_copy_from_a_later_stage_name_is_an_image_when_one_exists(daemon, tmp_path):
    # the legacy builder reads a name it has not built as an image's: so do we
    assert daemon.docker("tag", "busybox:latest", "later:latest").returncode == 0
    try:
        (tmp_path / "Dockerfile").write_text(
            "FROM busybox\nCOPY --from=later /bin/busybox /bb\n"
            "FROM busybox AS later\nCOPY --from=0 /bb /bb\n"
        )
        r = daemon.docker("build", "-q", str(tmp_path))
        assert r.returncode == 0, r.stdout + r.stderr
        built = r.stdout.strip()
        run = daemon.docker("run", "--rm", built, "cmp", "/bb", "/bin/busybox")  # copied twice
        assert run.returncode == 0, run.stderr
    finally:
        daemon.docker("rmi", "later:latest")


def reclaimable(daemon) -> tuple[str, str]:
    """`docker system df`'s Build Cache SIZE and RECLAIMABLE columns."""
    out = daemon.docker("system", "df").stdout.splitlines()
    row = next(line for line in out if line.startswith("Build Cache")).split()
    return row[4], row[5]


def test_df_lists_cache_mounts_and_prune_frees_what_it_calls_reclaimable(daemon, tmp_path):
    assert daemon.request("POST", "/build/prune")[0] == 200
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nRUN --mount=type=cache,target=/cm,id=dfmount "
        "dd if=/dev/zero of=/cm/blob bs=1k count=64 2>/dev/null\n"
        "RUN dd if=/dev/zero of=/step bs=1k count=200 2>/dev/null\n"
    )
    assert daemon.docker("build", str(tmp_path)).returncode == 0  # untagged: all reclaimable
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo kept > /kept\n")
    assert daemon.docker("build", "-t", "kept:1", str(tmp_path)).returncode == 0
    before = daemon.docker("images", "-aq").stdout.split()

    records = json.loads(daemon.request("GET", "/system/df")[1])["BuildCache"]
    (mount,) = [r for r in records if r["Type"] == "exec.cachemount"]
    assert mount["ID"] == "dfmount" and mount["InUse"] is False and mount["Size"] >= 64 * 1024
    assert mount["Description"] == 'cached mount /cm from exec with id "dfmount"'
    steps = {r["Description"]: r for r in records if r["Type"] == "regular"}
    assert steps["RUN echo kept > /kept"]["Shared"] is True
    big = steps["RUN dd if=/dev/zero of=/step bs=1k count=200 2>/dev/null"]
    assert big["Shared"] is False and big["Size"] >= 200 * 1024
    expected = sum(r["Size"] for r in records if not r["Shared"] and not r["InUse"])
    size, free = reclaimable(daemon)
    assert size == free  # nothing in use

    status, body = daemon.request("POST", "/build/prune")
    report = json.loads(body)
    assert status == 200 and report["SpaceReclaimed"] == expected
    assert "dfmount" in report["CachesDeleted"]
    after = daemon.docker("images", "-aq").stdout.split()
    assert len(before) - len(after) == 2  # the untagged build's two step images
    assert daemon.docker("run", "--rm", "kept:1", "cat", "/kept").stdout == "kept\n"
    left = json.loads(daemon.request("GET", "/system/df")[1])["BuildCache"]
    assert left and all(r["Shared"] for r in left)  # kept without `all`, as BuildKit keeps them
    assert reclaimable(daemon) == ("0B", "0B")
    status, body = daemon.request("POST", "/build/prune?all=1")
    assert status == 200 and json.loads(body)["SpaceReclaimed"] == 0  # the image keeps the bytes
    assert json.loads(daemon.request("GET", "/system/df")[1])["BuildCache"] == []
    assert daemon.docker("run", "--rm", "kept:1", "cat", "/kept").stdout == "kept\n"
    daemon.docker("rmi", "kept:1")


def test_docker_cli_figures_agree(daemon, tmp_path):
    assert daemon.request("POST", "/build/prune")[0] == 200
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nRUN dd if=/dev/zero of=/f bs=1k count=300 2>/dev/null\n"
    )
    assert daemon.docker("build", str(tmp_path)).returncode == 0
    _size, free = reclaimable(daemon)
    assert free.endswith("kB") and float(free[:-2]) >= 300  # the step's 300 KiB layer
    pruned = daemon.docker("builder", "prune", "-f")
    assert pruned.returncode == 0, pruned.stderr
    assert f"Total reclaimed space: {free}" in pruned.stdout, (free, pruned.stdout)


def test_a_running_build_keeps_its_cache_mount_and_entries(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nRUN echo before-busy > /b\n"
        "RUN --mount=type=cache,target=/c,id=busy sh -c 'echo x > /c/f; sleep 3'\n"
    )
    result: list[subprocess.CompletedProcess[str]] = []
    worker = threading.Thread(
        target=lambda: result.append(daemon.docker("build", "--no-cache", str(tmp_path)))
    )
    worker.start()
    try:
        deadline, busy = time.monotonic() + 20, list[dict]()
        while not busy and time.monotonic() < deadline:
            records = json.loads(daemon.request("GET", "/system/df")[1])["BuildCache"]
            busy = [r for r in records if r["ID"] == "busy" and r["InUse"]]
            time.sleep(0.1)
        assert busy, records
        made = [r for r in records if r["Description"] == "RUN echo before-busy > /b"]
        assert made and made[0]["InUse"] is True  # the running step's container uses it
        report = json.loads(daemon.request("POST", "/build/prune")[1])
        assert "busy" not in report["CachesDeleted"]
    finally:
        worker.join(60)
    assert result and result[0].returncode == 0, result
    records = json.loads(daemon.request("GET", "/system/df")[1])["BuildCache"]
    assert [r["InUse"] for r in records if r["ID"] == "busy"] == [False]


def test_a_miss_names_the_bind_mounted_context_file_that_changed(daemon, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("one\n")
    (tmp_path / "src" / "b.txt").write_text("same\n")
    run = "RUN --mount=type=bind,source=src,target=/src cat /src/a.txt"
    (tmp_path / "Dockerfile").write_text(f"FROM busybox\n{run}\n")
    plain(daemon, tmp_path)
    assert "#2 CACHED" in plain(daemon, tmp_path)
    (tmp_path / "src" / "a.txt").write_text("two\n")
    changed = plain(daemon, tmp_path)
    assert f"#2 cache miss: {run}: file changed: src/a.txt\n" in changed, changed
    assert "#2 two" in changed


def test_onbuild_triggers_are_steps_of_their_own(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nONBUILD RUN echo trig-one > /t1\nONBUILD RUN echo trig-two\n"
    )
    assert daemon.docker("build", "-t", "trig:parent", str(tmp_path)).returncode == 0
    (tmp_path / "Dockerfile").write_text("FROM trig:parent\nRUN cat /t1\n")
    first = plain(daemon, tmp_path)
    assert "#2 [1/2] ONBUILD RUN echo trig-one > /t1\n" in first
    assert "#3 [1/2] ONBUILD RUN echo trig-two\n#3 cache miss: ONBUILD RUN echo trig-two: " in first
    assert "#3 trig-two\n" in first and "#4 [2/2] RUN cat /t1\n#4 cache miss" in first
    assert "#4 trig-one\n" in first and "# Executing" not in first
    again = plain(daemon, tmp_path)
    assert all(f"#{n} CACHED" in again for n in (2, 3, 4)), again
    legacy = daemon.docker("build", str(tmp_path))
    assert "# Executing 2 build triggers" in legacy.stdout and "dockwright" not in legacy.stdout
    daemon.docker("rmi", "trig:parent")
