"""A build cache that explains itself, concurrent stages, --cache-from, pulls in builds and the
build cache in `system df`, against a real dockwrightd (our CLI and the real docker CLI)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import REPO
from tests.integration.distribution.conftest import start_registry, stop_registry

pytestmark = pytest.mark.integration
DOCKWRIGHT = REPO / ".venv" / "bin" / "dockwright"


def dockwright(daemon, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": daemon.host}
    return subprocess.run([str(DOCKWRIGHT), *args], capture_output=True, text=True, env=env,
                          timeout=120)  # fmt: skip


def plain(daemon, ctx: Path, *args: str) -> str:
    """`dockwright build --progress=plain`; its progress (stderr), checked to have succeeded."""
    r = dockwright(daemon, "build", "--progress=plain", *args, str(ctx))
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stderr


def step_lines(progress: str, n: int) -> list[str]:
    return [line for line in progress.splitlines() if line.startswith(f"#{n} ")]


EXPLAINED = """\
FROM busybox
ARG VERSION=1
COPY app.py lib.py /app/
RUN echo "version $VERSION" > /v && echo explained-run
CMD ["cat", "/v"]
"""


def test_plain_progress_explains_hits_and_misses(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(EXPLAINED)
    (tmp_path / "app.py").write_text("print('app')\n")
    (tmp_path / "lib.py").write_text("print('lib')\n")
    (tmp_path / "notes.log").write_text("ignored\n")
    (tmp_path / ".dockerignore").write_text("*.log\n")
    first = plain(daemon, tmp_path, "-t", "explained:1")
    assert "#1 [1/5] FROM busybox" in first and "#3 [3/5] COPY app.py lib.py /app/" in first
    assert "#4 explained-run" in first and re.search(r"#4 DONE \d+\.\ds", first)
    assert "#6 naming to docker.io/library/explained:1 done" in first

    hit = plain(daemon, tmp_path)
    assert "cache miss" not in hit and "#4 explained-run" not in hit
    assert all(f"#{n} CACHED" in hit for n in (2, 3, 4, 5)), hit

    (tmp_path / "notes.log").write_text("touched, but ignored\n")
    assert "cache miss" not in plain(daemon, tmp_path)

    (tmp_path / "app.py").write_text("print('app, changed')\n")
    changed = plain(daemon, tmp_path)
    assert "#2 CACHED" in changed
    assert "#3 cache miss: COPY app.py lib.py /app/: file changed: app.py" in changed
    assert step_lines(changed, 4)[1].endswith(": the previous step was rebuilt")
    assert "#4 explained-run" in changed

    arg = plain(daemon, tmp_path, "--build-arg", "VERSION=2")
    assert "#2 CACHED" in arg and "#3 CACHED" in arg
    assert (
        '#4 cache miss: RUN echo "version $VERSION" > /v && echo explained-run: '
        "build argument VERSION changed ('1' -> '2')"
    ) in arg

    legacy = daemon.docker("build", "--build-arg", "VERSION=2", str(tmp_path))
    assert legacy.returncode == 0, legacy.stderr
    assert legacy.stdout.count(" ---> Using cache") == 4 and "dockwright" not in legacy.stdout
    quiet = daemon.docker("build", "-q", "--build-arg", "VERSION=2", str(tmp_path))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", quiet.stdout), quiet.stdout  # aux: only the ID


def test_no_cache_is_given_as_the_reason(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo no-cache-reason\n")
    plain(daemon, tmp_path)
    again = plain(daemon, tmp_path, "--no-cache")
    assert "#2 cache miss: RUN echo no-cache-reason: --no-cache was given" in again


OVERLAP = """\
FROM busybox AS one
RUN cut -d' ' -f1 /proc/uptime > /t && sleep 2 && cut -d' ' -f1 /proc/uptime >> /t
FROM busybox AS two
RUN cut -d' ' -f1 /proc/uptime > /t && sleep 2 && cut -d' ' -f1 /proc/uptime >> /t
FROM busybox
COPY --from=one /t /one
COPY --from=two /t /two
CMD ["cat", "/one", "/two"]
"""


def test_independent_stages_run_concurrently(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(OVERLAP)
    r = daemon.docker("build", "--no-cache", "-t", "overlap:1", str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    steps = re.findall(r"^Step (\d+)/8 : (\S+)", r.stdout, re.M)
    assert [int(n) for n, _ in steps] == list(range(1, 9))  # numbered and shown in order
    assert [k for _, k in steps] == ["FROM", "RUN", "FROM", "RUN", "FROM", "COPY", "COPY", "CMD"]
    out = daemon.docker("run", "--rm", "overlap:1").stdout.split()
    start1, end1, start2, end2 = (float(x) for x in out)
    assert start1 < end2 and start2 < end1, out  # the two RUN steps overlapped in time


def test_a_failing_stage_stops_the_others_and_leaves_no_container(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox AS slow\nRUN sleep 20\nFROM busybox AS broken\nRUN exit 7\n"
        "FROM busybox\nCOPY --from=slow /etc/hostname /a\nCOPY --from=broken /etc/hostname /b\n"
    )
    started = time.monotonic()
    r = daemon.docker("build", "--no-cache", str(tmp_path), timeout=60)
    assert r.returncode != 0
    assert "The command '/bin/sh -c exit 7' returned a non-zero code: 7" in r.stdout + r.stderr
    assert time.monotonic() - started < 15  # the slow stage was cancelled, not waited for
    assert daemon.docker("ps", "-aq").stdout.strip() == ""


def test_cache_from_after_the_cache_is_pruned(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nENV MODE=cf\nRUN echo cache-from-run > /r\nCOPY app.py /app/\n"
    )
    (tmp_path / "app.py").write_text("cache from\n")
    first = daemon.docker("build", "-t", "cachefrom:1", str(tmp_path))
    assert first.returncode == 0, first.stdout + first.stderr
    original = daemon.docker("image", "inspect", "-f", "{{.Id}}", "cachefrom:1").stdout.strip()
    archive = tmp_path / "image.tar"
    assert daemon.docker("save", "-o", str(archive), "cachefrom:1").returncode == 0
    assert daemon.docker("rmi", "cachefrom:1").returncode == 0
    assert daemon.docker("builder", "prune", "-f").returncode == 0
    assert daemon.docker("load", "-i", str(archive)).returncode == 0

    progress = plain(daemon, tmp_path, "--cache-from", "cachefrom:1", "-t", "cachefrom:2")
    assert all(f"#{n} CACHED (from --cache-from image)" in progress for n in (2, 3, 4)), progress
    assert "#3 cache-from-run" not in progress
    rebuilt = daemon.docker("image", "inspect", "-f", "{{.Id}}", "cachefrom:2").stdout.strip()
    assert rebuilt == original
    legacy = daemon.docker("build", "--cache-from", "cachefrom:1", str(tmp_path))
    assert legacy.stdout.count("Using cache") == 3 and "Running in" not in legacy.stdout


def test_build_cache_in_system_df_and_gone_after_prune(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo df-cache > /df\n")
    assert daemon.docker("build", str(tmp_path)).returncode == 0
    status, body = daemon.request("GET", "/system/df")
    assert status == 200, body
    records = json.loads(body)["BuildCache"]
    mine = [r for r in records if r["Description"] == "RUN echo df-cache > /df"]
    assert len(mine) == 1, records
    assert mine[0]["Type"] == "regular" and mine[0]["Size"] > 0 and mine[0]["UsageCount"] == 1
    assert {"ID", "Parents", "InUse", "Shared", "CreatedAt", "LastUsedAt"} <= set(mine[0])
    row = [line for line in daemon.docker("system", "df").stdout.splitlines()
           if line.startswith("Build Cache")]  # fmt: skip
    assert row and int(row[0].split()[2]) == len(records)
    assert dockwright(daemon, "system", "df").stdout.count("Build Cache") == 1

    assert daemon.request("POST", "/build/prune?all=1")[0] == 200  # shared ones too
    assert json.loads(daemon.request("GET", "/system/df")[1])["BuildCache"] == []
    row = [line for line in daemon.docker("system", "df").stdout.splitlines()
           if line.startswith("Build Cache")]  # fmt: skip
    assert row[0].split()[2:4] == ["0", "0"]


@pytest.fixture(scope="module")
def registry():
    reg = start_registry()
    try:
        yield reg
    finally:
        stop_registry(reg)


def test_from_image_missing_locally_is_pulled(daemon, registry, tmp_path):
    name = f"{registry.host}/builds/base:1"
    assert daemon.docker("tag", "busybox:latest", name).returncode == 0
    assert daemon.docker("push", name).returncode == 0
    assert daemon.docker("rmi", name).returncode == 0
    (tmp_path / "Dockerfile").write_text(f"FROM {name}\nRUN echo pulled-base\n")
    r = daemon.docker("build", "-t", "pulled:1", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Pulling from builds/base" in r.stdout and "pulled-base" in r.stdout
    again = daemon.docker("build", "--pull", str(tmp_path))
    assert again.returncode == 0 and "Image is up to date" in again.stdout, again.stdout


def test_pull_failure_and_platform_mismatch(daemon, registry, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM {registry.host}/builds/nosuch:1\n")
    missing = daemon.docker("build", str(tmp_path))
    assert missing.returncode != 0
    assert "builds/nosuch" in missing.stdout + missing.stderr
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo never\n")
    other = daemon.docker("build", "--platform", "linux/arm64", str(tmp_path))
    assert other.returncode != 0 and "never" not in other.stdout
    assert (
        "image with reference busybox was found but does not match the specified platform: "
        "wanted linux/arm64, actual: linux/amd64"
    ) in other.stdout + other.stderr
