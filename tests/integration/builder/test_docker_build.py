"""`docker build` (real CLI, legacy builder) against dockwrightd: every supported instruction,
the result run with `docker run`, cache hits and misses, and no containers left by a failure."""

from __future__ import annotations

import io
import json
import tarfile
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.integration.conftest import UnixHTTPConnection

pytestmark = pytest.mark.integration

DOCKERFILE = """\
# a multi-stage build with every supported instruction
ARG BASE=busybox
FROM ${BASE} AS builder
ARG GREETING=hello
RUN mkdir -p /out && echo "$GREETING from builder" > /out/greeting.txt
RUN ["/bin/sh", "-c", "echo exec-form > /out/exec.txt"]

FROM busybox:latest AS final
ARG BASE
ENV APP_HOME=/app \\
    MODE="release build"
WORKDIR $APP_HOME
COPY --from=builder /out/ ./from-builder/
COPY src/ ./src/
COPY --chown=1000:1000 top.txt owned.txt
COPY --chmod=700 top.txt /private/
ADD archive.tar /unpacked/
LABEL org.example.name="demo app" base=$BASE
EXPOSE 8080 9090/udp
RUN adduser -D -u 1000 app 2>/dev/null || echo "app:x:1000:1000::/home/app:/bin/sh" >> /etc/passwd
SHELL ["/bin/sh", "-ec"]
RUN echo "shell is $0 $-" > /shell.txt
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --retries=2 CMD true
VOLUME /data
USER app
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo default-cmd"]
"""


def make_context(root: Path) -> Path:
    (root / "src" / "sub").mkdir(parents=True)
    (root / "src" / "a.txt").write_text("file a\n")
    (root / "src" / "sub" / "b.txt").write_text("file b\n")
    (root / "src" / "ignored.log").write_text("ignored\n")
    (root / "top.txt").write_text("top\n")
    (root / ".dockerignore").write_text("**/*.log\n")
    payload = root / "payload.txt"
    payload.write_text("from the archive\n")
    with tarfile.open(root / "archive.tar", "w") as tf:
        tf.add(payload, arcname="inside/payload.txt")
    payload.unlink()
    (root / "Dockerfile").write_text(DOCKERFILE)
    return root


def build(daemon, ctx: Path, *args: str):
    return daemon.docker("build", *args, str(ctx), timeout=120)


def test_multi_stage_build_and_run(daemon, tmp_path):
    ctx = make_context(tmp_path)
    r = build(daemon, ctx, "-t", "demo:1", "--build-arg", "GREETING=hi")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Successfully tagged demo:1" in r.stdout
    run = daemon.docker("run", "--rm", "demo:1", "id -u; pwd; echo $MODE; cat from-builder/*; "
                        "cat src/a.txt src/sub/b.txt; ls src; stat -c %u:%g owned.txt; "
                        "cat /unpacked/inside/payload.txt; stat -c %a /private/top.txt; cat /shell.txt")  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "1000", "/app", "release build", "exec-form", "hi from builder", "file a", "file b",
        "a.txt", "sub", "1000:1000", "from the archive", "700", "shell is /bin/sh ce",
    ]  # fmt: skip
    default = daemon.docker("run", "--rm", "demo:1")
    assert default.stdout == "default-cmd\n"
    config = json.loads(daemon.docker("image", "inspect", "demo:1").stdout)[0]["Config"]
    assert config["Labels"] == {"org.example.name": "demo app", "base": "busybox"}
    assert set(config["ExposedPorts"]) == {"8080/tcp", "9090/udp"}
    assert config["WorkingDir"] == "/app" and config["User"] == "app"
    assert config["StopSignal"] == "SIGINT" and config["Volumes"] == {"/data": {}}
    assert config["Shell"] == ["/bin/sh", "-ec"]
    assert config["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 30_000_000_000,
                                     "Retries": 2}  # fmt: skip
    assert config["Env"][-2:] == ["APP_HOME=/app", "MODE=release build"]
    assert "GREETING" not in str(config["Env"])


def test_rebuild_uses_cache_and_a_changed_file_rebuilds_from_its_step(daemon, tmp_path):
    ctx = make_context(tmp_path)
    first = build(daemon, ctx, "-t", "cached:1")
    assert first.returncode == 0, first.stdout + first.stderr
    again = build(daemon, ctx, "-t", "cached:2")
    assert again.returncode == 0, again.stderr
    steps = again.stdout.count("Step ")
    from_lines = again.stdout.count(": FROM ") + again.stdout.count(": ARG BASE=")
    assert again.stdout.count("Using cache") == steps - from_lines
    assert _image_id(daemon, "cached:1") == _image_id(daemon, "cached:2")
    (ctx / "src" / "ignored.log").write_text("changed but ignored\n")
    assert "Running in" not in build(daemon, ctx).stdout
    (ctx / "src" / "sub" / "b.txt").write_text("file b, changed\n")
    changed = build(daemon, ctx, "-t", "cached:3")
    assert changed.returncode == 0, changed.stderr
    before, _, after = changed.stdout.partition("COPY src/ ./src/")
    assert "Running in" not in before and before.count("Using cache") >= 6
    assert "Using cache" not in after and "Running in" in after


def test_failing_run_leaves_no_container(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo never\n"
    )
    r = build(daemon, tmp_path)
    assert r.returncode != 0
    assert "The command '/bin/sh -c exit 3' returned a non-zero code: 3" in r.stdout + r.stderr
    assert "never" not in r.stdout
    assert daemon.docker("ps", "-aq").stdout.strip() == ""


def test_target_and_missing_source(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox AS unused\nRUN exit 2\n"
        "FROM busybox AS one\nRUN echo one > /one\nFROM one AS two\nRUN exit 1\n"
    )
    r = build(daemon, tmp_path, "--target", "one", "-t", "target:one")
    assert r.returncode == 0, r.stdout + r.stderr
    assert daemon.docker("run", "--rm", "target:one", "cat", "/one").stdout == "one\n"
    assert "exit 2" not in r.stdout  # a stage the target does not need is skipped
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY nothere /x\n")
    missing = build(daemon, tmp_path)
    assert missing.returncode != 0
    assert "file not found in build context" in missing.stdout + missing.stderr


def _image_id(daemon, name: str) -> str:
    return daemon.docker("image", "inspect", "-f", "{{.Id}}", name).stdout.strip()


def context_tar(files: dict[str, str], gzip: bool = False) -> bytes:
    """A context tar of text files (gzipped when asked); other build tests use it too."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gzip else "w") as tf:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _api_build(daemon, files: dict[str, str], query: str, gzip: bool = False) -> list[dict]:
    status, body = daemon.request(
        "POST", f"/build?{query}", context_tar(files, gzip), {"Content-Type": "application/x-tar"}
    )
    assert status == 200, body
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def test_api_gzip_context_quiet_buildargs_and_labels(daemon):
    files = {"build.Dockerfile": "FROM busybox\nARG WHO=nobody\nRUN echo $WHO > /who\n"}
    args = urllib.parse.quote(json.dumps({"WHO": "api"}))
    labels = urllib.parse.quote(json.dumps({"via": "labels"}))
    query = f"dockerfile=build.Dockerfile&q=1&t=apiq:1&t=apiq:2&buildargs={args}&labels={labels}"
    messages = _api_build(daemon, files, query, gzip=True)
    image_id = next(m["aux"]["ID"] for m in messages if "aux" in m)
    assert {"stream": image_id + "\n"} in messages
    assert not any("Step" in m.get("stream", "") for m in messages)
    assert _image_id(daemon, "apiq:1") == _image_id(daemon, "apiq:2") == image_id
    run = daemon.docker("run", "--rm", "apiq:1", "cat", "/who")
    assert run.stdout == "api\n"
    inspect = json.loads(daemon.docker("image", "inspect", "apiq:1").stdout)[0]
    assert inspect["Config"]["Labels"] == {"via": "labels"}
    history = daemon.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", "apiq:1")
    assert "|1 WHO=api /bin/sh -c echo $WHO > /who" in history.stdout


def test_api_errors_are_error_details(daemon):
    messages = _api_build(daemon, {"Dockerfile": "FROM busybox\nRUN echo out; exit 7\n"}, "")
    assert {"stream": "out\n"} in messages
    text = "The command '/bin/sh -c echo out; exit 7' returned a non-zero code: 7"
    assert messages[-1] == {"errorDetail": {"message": text}, "error": text}
    status, body = daemon.request(
        "POST", "/build", context_tar({"Dockerfile": "FROM busybox\nBOGUS x\n"}, False)
    )
    assert status == 400 and b"unknown instruction: BOGUS" in body


def test_heredocs(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\n"
        "RUN <<EOF\nmkdir /hd\necho script > /hd/run.txt\nEOF\n"
        "RUN cat <<-END > /hd/fed.txt\n\tfed line\n\tEND\n"
        "COPY <<note.txt /hd/\ncopied body\nnote.txt\n"
    )
    r = build(daemon, tmp_path, "-t", "heredocs:1")
    assert r.returncode == 0, r.stdout + r.stderr
    run = daemon.docker(
        "run", "--rm", "heredocs:1", "cat", "/hd/run.txt", "/hd/fed.txt", "/hd/note.txt"
    )
    assert run.stdout == "script\nfed line\ncopied body\n"


def test_docker_py_build_with_fileobj_and_proxy_arg(daemon):
    client = daemon.client()
    try:
        dockerfile = io.BytesIO(b"FROM busybox\nRUN echo $HTTP_PROXY > /proxy\n")
        image, logs = client.images.build(
            fileobj=dockerfile, tag="dockerpy:1", buildargs={"HTTP_PROXY": "http://proxy:3128"}
        )
        assert "dockerpy:1" in image.tags
        assert any("Successfully built" in entry.get("stream", "") for entry in logs)
        out = client.containers.run("dockerpy:1", ["cat", "/proxy"], remove=True)
        assert out == b"http://proxy:3128\n"
        history = [h["CreatedBy"] for h in client.api.history("dockerpy:1")]
        assert not any("proxy:3128" in line for line in history)
    finally:
        client.close()


def test_bad_tag_is_refused_before_building(daemon):
    context = context_tar({"Dockerfile": "FROM busybox\nRUN echo ran\n"}, False)
    status, body = daemon.request("POST", "/build?t=Bad:Tag", context)
    assert status == 400, body
    assert b"ran" not in body and b"Step" not in body


def test_client_gone_mid_run_leaves_no_container(daemon):
    context = context_tar({"Dockerfile": "FROM busybox\nRUN echo started; sleep 5\n"}, False)
    conn = UnixHTTPConnection(str(daemon.socket))
    conn.request("POST", "/build", body=context)
    resp = conn.getresponse()
    seen = b""
    while b"started" not in seen:
        seen += resp.read1(4096)
    conn.close()
    deadline = time.monotonic() + 20
    while daemon.docker("ps", "-aq").stdout.strip() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert daemon.docker("ps", "-aq").stdout.strip() == ""


def test_builder_prune_forgets_the_cache(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo prune-me > /p\n")
    assert build(daemon, tmp_path).returncode == 0
    assert "Using cache" in build(daemon, tmp_path).stdout
    pruned = daemon.docker("builder", "prune", "-f")
    assert pruned.returncode == 0, pruned.stderr
    again = build(daemon, tmp_path)
    assert again.returncode == 0 and "Using cache" not in again.stdout
    nocache = build(daemon, tmp_path, "--no-cache")
    assert "Using cache" not in nocache.stdout and "Running in" in nocache.stdout


def test_onbuild_triggers_run_in_the_child_build(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nONBUILD RUN echo triggered > /t\n")
    assert build(daemon, tmp_path, "-t", "onbuild:parent").returncode == 0
    (tmp_path / "Dockerfile").write_text('FROM onbuild:parent\nCMD ["cat", "/t"]\n')
    child = build(daemon, tmp_path, "-t", "onbuild:child")
    assert child.returncode == 0, child.stdout + child.stderr
    assert "# Executing 1 build trigger" in child.stdout
    assert daemon.docker("run", "--rm", "onbuild:child").stdout == "triggered\n"
    onbuild = daemon.docker("image", "inspect", "-f", "{{json .Config.OnBuild}}", "onbuild:child")
    assert onbuild.stdout.strip() == "null"


def test_from_scratch_with_copy_from_a_stage(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox AS tools\nRUN echo static > /data.txt\n"
        "FROM scratch\nCOPY --from=tools /bin/busybox /bin/busybox\nCOPY --from=tools /data.txt /\n"
        'ENTRYPOINT ["/bin/busybox"]\nCMD ["cat", "/data.txt"]\n'
    )
    r = build(daemon, tmp_path, "-t", "scratchy:1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert daemon.docker("run", "--rm", "scratchy:1").stdout == "static\n"
    layers = daemon.docker("image", "inspect", "-f", "{{len .RootFS.Layers}}", "scratchy:1")
    assert layers.stdout.strip() == "2"


def test_run_network_and_extra_hosts(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nRUN ip -o link | grep -c -v ' lo:' > /links || true\n"
        "RUN grep buildhost /etc/hosts > /hosts\n"
    )
    r = build(
        daemon, tmp_path, "--network", "none", "--add-host", "buildhost:10.1.2.3", "-t", "net:1"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = daemon.docker("run", "--rm", "net:1", "cat", "/links", "/hosts").stdout.split()
    assert out[0] == "0" and out[1:] == ["10.1.2.3", "buildhost"]
