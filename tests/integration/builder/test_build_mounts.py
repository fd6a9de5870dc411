"""RUN --mount (cache, bind, tmpfs, secret), RUN --network, build secrets, and the cache-mount
export/import endpoints, against a real daemon (the `daemon` fixture checks no mount leaks)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.integration

DOCKWRIGHT = REPO / ".venv" / "bin" / "dockwright"
SECRET = "SUPERSECRET-4f1c9"


def cli(daemon, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DOCKWRIGHT), "-H", daemon.host, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def build(daemon, ctx: Path, dockerfile: str, *args: str, env: dict[str, str] | None = None):
    (ctx / "Dockerfile").write_text(dockerfile)
    return cli(daemon, "build", *args, str(ctx), env=env)


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def run_in(daemon, image: str, script: str) -> str:
    return ok(cli(daemon, "run", "--rm", image, "sh", "-c", script))


def cache_ids(daemon) -> dict[str, int]:
    status, body = daemon.request("GET", "/build/cache-mounts")
    assert status == 200, body
    return {item["ID"]: item["Size"] for item in json.loads(body)}


CACHE_DF = """FROM busybox
RUN --mount=type=cache,target=/var/cache/app,id=counter,sharing=locked \\
    sh -c 'echo "seen: $(cat /var/cache/app/runs 2>/dev/null)"; echo run >> /var/cache/app/runs'
"""


def test_cache_mount_survives_between_builds(daemon, tmp_path):
    first = build(daemon, tmp_path, CACHE_DF, "--no-cache", "-t", "cm:1")
    assert "seen: \n" in ok(first)
    # the second build runs the step again and sees what the first wrote (docker CLI this time)
    second = daemon.docker("build", "--no-cache", "-t", "cm:2", str(tmp_path), timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "seen: run\n" in second.stdout
    data = daemon.root / "data" / "build-mounts" / "cache"
    assert [p.read_text() for p in data.glob("*/id")].count("counter") == 1
    # the mount is not part of the layer: not even its mount point
    assert run_in(daemon, "cm:2", "ls -d /var/cache/app 2>&1 || true").startswith("ls: ")
    assert cache_ids(daemon)["counter"] > 0


def test_cache_mount_options_are_in_the_step_key(daemon, tmp_path):
    df = "FROM busybox\nRUN --mount=type=cache,target=/c,uid=1234,mode=0700 stat -c '%u %a' /c\n"
    first = ok(build(daemon, tmp_path, df))
    assert "1234 700" in first
    assert "Using cache" in ok(build(daemon, tmp_path, df))
    changed = ok(build(daemon, tmp_path, df.replace("uid=1234", "uid=4321")))
    assert "Using cache" not in changed and "4321 700" in changed


BIND_DF = """FROM busybox AS stage
RUN mkdir /out && echo staged > /out/s.txt
FROM busybox
WORKDIR /work
RUN --mount=type=bind,source=ctxdir,target=/ctx --mount=from=stage,source=/out,target=st \\
    sh -c 'cat /ctx/a.txt /work/st/s.txt > /result && if touch /ctx/x 2>/dev/null; then exit 9; fi'
RUN --mount=type=bind,source=ctxdir,target=/ctx,rw sh -c 'echo w > /ctx/a.txt; cat /ctx/a.txt'
RUN --mount=type=bind,source=ctxdir/a.txt,target=/one.txt cat /one.txt
"""


def test_bind_mounts_from_context_and_stage(daemon, tmp_path):
    (tmp_path / "ctxdir").mkdir()
    (tmp_path / "ctxdir" / "a.txt").write_text("from context\n")
    out = ok(build(daemon, tmp_path, BIND_DF, "-t", "bind:1"))
    assert "w\n" in out
    assert out.count("from context\n") == 1  # the rw write went to a throwaway copy
    assert run_in(daemon, "bind:1", "cat /result") == "from context\nstaged\n"
    assert run_in(daemon, "bind:1", "ls -a /work; ls /ctx /one.txt 2>&1 || true").startswith(
        ".\n..\nls: "
    )
    cached = ok(build(daemon, tmp_path, BIND_DF))
    assert "Running in" not in cached
    (tmp_path / "ctxdir" / "a.txt").write_text("changed\n")  # bound content is in the key
    rebuilt = ok(build(daemon, tmp_path, BIND_DF, "-t", "bind:2"))
    assert "Running in" in rebuilt
    assert run_in(daemon, "bind:2", "cat /result") == "changed\nstaged\n"


def test_tmpfs_mount(daemon, tmp_path):
    df = ("FROM busybox\nRUN --mount=type=tmpfs,target=/scratch,size=2m "
          "sh -c 'echo x > /scratch/f && grep \" /scratch \" /proc/mounts && echo made > /kept'\n")  # fmt: skip
    out = ok(build(daemon, tmp_path, df, "-t", "tmpfs:1"))
    assert "tmpfs /scratch tmpfs" in out and "size=2048k" in out
    assert run_in(daemon, "tmpfs:1", "cat /kept; ls /scratch 2>&1 || true") == (
        "made\nls: /scratch: No such file or directory\n"
    )


SECRET_DF = """FROM busybox
RUN --mount=type=secret,id=token,required \\
    sh -c 'test "$(md5sum < /run/secrets/token)" = "{md5}  -" && echo token-ok; stat -c "%a %u" /run/secrets/token'
RUN --mount=type=secret,id=envsec,target=/etc/k,mode=0440,uid=7 sh -c 'stat -c "%a %u" /etc/k; cat /etc/k'
RUN --mount=type=secret,id=absent echo optional-ok
""".replace("{md5}", hashlib.md5(SECRET.encode()).hexdigest())


def test_secret_visible_to_run_and_absent_from_the_image(daemon, tmp_path):
    (tmp_path / "token.txt").write_text(SECRET)
    args = ("--secret", f"id=token,src={tmp_path / 'token.txt'}", "--secret", "id=envsec,env=MYSEC")
    env = {"MYSEC": "env-" + SECRET}
    out = ok(build(daemon, tmp_path, SECRET_DF, *args, "-t", "secret:1", env=env))
    assert "token-ok\n400 0\n" in out and "440 7\nenv-" + SECRET in out and "optional-ok" in out
    assert run_in(daemon, "secret:1", "ls /run/secrets /etc/k 2>&1 || true").count("No such") == 2
    status, saved = daemon.request("GET", "/images/get?names=secret:1")
    assert status == 200
    assert SECRET.encode() not in _unpacked(saved)
    status, history = daemon.request("GET", "/images/secret:1/history")
    assert status == 200 and SECRET.encode() not in history
    assert SECRET not in daemon.log.read_text()
    # the content is not in the key: a different secret value keeps the cache
    (tmp_path / "token.txt").write_text("other")
    again = ok(build(daemon, tmp_path, SECRET_DF, *args, env={"MYSEC": "x"}))
    assert again.count("Using cache") == 3


def _unpacked(saved: bytes) -> bytes:
    """Every file of a saved image, layer tars opened too."""
    blobs = []
    with tarfile.open(fileobj=io.BytesIO(saved)) as tf:
        for member in tf.getmembers():
            f = tf.extractfile(member)
            if f is None:
                continue
            data = f.read()
            blobs.append(data)
            try:
                with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                    for inner in layer.getmembers():
                        g = layer.extractfile(inner)
                        blobs.append(inner.name.encode() + (g.read() if g else b""))
            except tarfile.TarError:
                pass
    return b"\n".join(blobs)


def test_secret_id_alone_reads_the_variable_or_the_file(daemon, tmp_path):
    df = "FROM busybox\nRUN --mount=type=secret,id=NAMED,required cat /run/secrets/NAMED\n"
    out = ok(build(daemon, tmp_path, df, "--no-cache", "--secret", "id=NAMED", env={"NAMED": "v1"}))
    assert "v1" in out
    (tmp_path / "NAMED").write_text("from-file")
    env = {k: v for k, v in os.environ.items() if k != "NAMED"}
    r = subprocess.run([str(DOCKWRIGHT), "-H", daemon.host, "build", "--no-cache", "--secret",
                        "id=NAMED", str(tmp_path)], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)  # fmt: skip
    assert "from-file" in ok(r)


def test_missing_required_secret_fails_and_leaves_nothing(daemon, tmp_path):
    df = "FROM busybox\nRUN echo before\nRUN --mount=type=secret,id=nope,required true\n"
    r = build(daemon, tmp_path, df)
    assert r.returncode != 0
    assert "secret nope: not found" in r.stdout + r.stderr
    assert "before\n" in r.stdout
    status, body = daemon.request("GET", "/containers/json?all=1")
    assert status == 200 and json.loads(body) in ([], None)


def test_run_network_none(daemon, tmp_path):
    df = ("FROM busybox\nRUN --network=none sh -c 'echo none: $(ls /sys/class/net)'\n"
          "RUN --network=host sh -c 'echo host: $(readlink /proc/self/ns/net)'\n")  # fmt: skip
    out = ok(build(daemon, tmp_path, df))
    assert "none: lo\n" in out
    assert f"host: {os.readlink('/proc/self/ns/net')}\n" in out  # the daemon's namespace
    other = ok(build(daemon, tmp_path, df.replace("--network=none", "--network=default")))
    assert "none: " in other and "none: lo\n" not in other  # ran again: the network is in the key
    r = build(daemon, tmp_path, "FROM busybox\nRUN --network=bridge true\n")
    assert r.returncode != 0 and "unsupported network mode 'bridge'" in r.stdout + r.stderr


def test_bad_mount_option_fails_with_buildkit_message(daemon, tmp_path):
    r = build(daemon, tmp_path, "FROM busybox\nRUN --mount=type=cache,target=/c,size=1m true\n")
    assert r.returncode != 0
    assert "unexpected key 'size' for mount type 'cache'" in r.stdout + r.stderr


EXPORT_DF = """FROM busybox
RUN --mount=type=cache,target=/c,id=roundtrip sh -c 'echo "have: $(cat /c/f 2>/dev/null)"; \\
    test -f /c/f || (echo payload > /c/f; mkdir -p /c/d; ln -s f /c/link; chown 33:44 /c/d)'
"""


def test_export_prune_import_round_trip(daemon, tmp_path):
    ok(build(daemon, tmp_path, EXPORT_DF, "--no-cache"))
    size = cache_ids(daemon)["roundtrip"]
    archive = tmp_path / "caches.tar"
    ok(cli(daemon, "builder", "cache", "export", "-o", str(archive), "roundtrip"))
    with tarfile.open(archive) as tf:
        names = tf.getnames()
    assert any(n.endswith("/data/f") for n in names) and all(not n.startswith("/") for n in names)
    status, body = daemon.request("POST", "/build/prune")
    report = json.loads(body)
    assert status == 200 and "roundtrip" in report["CachesDeleted"]
    assert report["SpaceReclaimed"] >= size > 0
    assert "roundtrip" not in cache_ids(daemon)
    assert "have: \n" in ok(build(daemon, tmp_path, EXPORT_DF, "--no-cache"))  # really gone
    pruned = ok(cli(daemon, "builder", "prune", "-f"))
    assert "Deleted build cache objects:" in pruned and "roundtrip\n" in pruned
    assert "Total reclaimed space: " in pruned
    out = ok(cli(daemon, "builder", "cache", "import", str(archive)))
    assert "Imported cache mount roundtrip" in out
    assert "roundtrip" in ok(cli(daemon, "builder", "cache", "ls"))
    check = EXPORT_DF.replace("sh -c", "sh -c 'stat -c %u:%g /c/d; readlink /c/link'; sh -c", 1)
    again = ok(build(daemon, tmp_path, check, "--no-cache"))
    assert "have: payload\n" in again and "33:44\nf\n" in again


def test_export_of_unknown_id_and_bad_import(daemon, tmp_path):
    status, body = daemon.request("GET", "/build/cache-mounts/export?id=never-made")
    assert status == 404 and b"no such cache mount: never-made" in body
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("0" * 64 + "/id")
        info.size = 5
        tf.addfile(info, io.BytesIO(b"wrong"))
        escape = tarfile.TarInfo("../evil")
        tf.addfile(escape, io.BytesIO(b""))
    status, body = daemon.request("POST", "/build/cache-mounts/import", buf.getvalue())
    assert status == 400 and b"invalid cache mount archive" in body
    assert not (daemon.root / "data" / "build-mounts" / "evil").exists()


def test_cache_mount_seeded_from_a_stage(daemon, tmp_path):
    df = """FROM busybox AS seed
RUN mkdir /s && echo seeded > /s/f
FROM busybox
RUN --mount=type=cache,target=/c,id=seeded,from=seed,source=/s sh -c 'cat /c/f; echo more >> /c/f'
"""
    assert "seeded\n" in ok(build(daemon, tmp_path, df, "--no-cache"))
    again = ok(build(daemon, tmp_path, df, "--no-cache"))
    assert "seeded\nmore\n" in again  # seeded once; afterwards the cache keeps its content


def test_large_secret_fits_the_header_limit(daemon, tmp_path):
    big = tmp_path / "big"
    big.write_bytes(os.urandom(500 * 1024))
    df = "FROM busybox\nRUN --mount=type=secret,id=big,required wc -c < /run/secrets/big\n"
    assert f"{500 * 1024}\n" in ok(build(daemon, tmp_path, df, "--secret", f"id=big,src={big}"))
    big.write_bytes(b"x" * (500 * 1024 + 1))
    r = build(daemon, tmp_path, df, "--secret", f"id=big,src={big}")
    assert r.returncode != 0 and "secret big is too large" in r.stderr
