"""`RUN --mount=type=ssh` and `dockwright build --ssh`, against a real daemon and real agents.

The steps run the host's own `ssh-add` (its binary, loader and libraries bind-mounted from the
context, run through the loader) against the forwarded socket, so the agent protocol really
crosses the daemon: the listed key must be the one the test's ssh-agent holds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.integration

DOCKWRIGHT = REPO / ".venv" / "bin" / "dockwright"
COMMENT = "dwt-ssh-test-key"
SSH_ADD = "/opt/ssh/ld.so --library-path /opt/ssh /opt/ssh/ssh-add"
TOOLS = "--mount=type=bind,source=ssh,target=/opt/ssh"


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    """An ssh-agent (ours, by PID) holding a fresh ed25519 key: (socket, key file, fingerprint)."""
    d = tmp_path_factory.mktemp("agent")
    key = d / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", COMMENT, "-f", str(key)],
                   check=True)  # fmt: skip
    sock = d / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if sock.exists():
                break
            threading.Event().wait(0.01)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True)
        finger = subprocess.run(["ssh-keygen", "-lf", f"{key}.pub"], capture_output=True,
                                text=True, check=True).stdout.split()[1]  # fmt: skip
        yield sock, key, finger
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)


def context(tmp_path: Path, dockerfile: str) -> Path:
    """A context with the Dockerfile and ssh-add with everything it loads, under ssh/."""
    tools = tmp_path / "ssh"
    tools.mkdir(exist_ok=True)
    libs = subprocess.run(["ldd", "/usr/bin/ssh-add"], capture_output=True, text=True, check=True)
    for line in libs.stdout.splitlines():
        path = next((w for w in line.split() if w.startswith("/")), None)
        if path is not None:
            name = "ld.so" if "ld-linux" in path else os.path.basename(path)
            shutil.copy(path, tools / name)
    shutil.copy("/usr/bin/ssh-add", tools / "ssh-add")
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return tmp_path


def build(daemon, ctx: Path, *args: str, env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run([str(DOCKWRIGHT), "-H", daemon.host, "build", *args, str(ctx)],
                          capture_output=True, text=True, env={**base, **(env or {})},
                          timeout=60)  # fmt: skip


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def scratch_left(daemon) -> list[str]:
    tmp = daemon.root / "data" / "build-mounts" / "tmp"
    return [p.name for p in tmp.iterdir()] if tmp.exists() else []


DEFAULT_DF = f"""FROM busybox
RUN --mount=type=ssh {TOOLS} sh -c 'echo "sock=$SSH_AUTH_SOCK"; \\
    stat -c "%a %u %F" "$SSH_AUTH_SOCK"; {SSH_ADD} -l; {SSH_ADD} -D || echo remove-refused'
"""


def test_default_forwards_ssh_auth_sock(daemon, agent, tmp_path):
    sock, _key, finger = agent
    ctx = context(tmp_path, DEFAULT_DF)
    out = ok(
        build(daemon, ctx, "--ssh", "default", "-t", "ssh:1", env={"SSH_AUTH_SOCK": str(sock)})
    )
    assert "sock=/run/buildkit/ssh_agent.0\n600 0 socket\n" in out
    assert f"256 {finger} {COMMENT} (ED25519)" in out
    assert "remove-refused" in out  # read-only, as BuildKit's forwarded agents are
    env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
    assert (
        COMMENT in subprocess.run(["ssh-add", "-l"], env=env, capture_output=True, text=True).stdout
    )
    # neither the socket nor its variable is in the image or its history
    r = subprocess.run([str(DOCKWRIGHT), "-H", daemon.host, "run", "--rm", "ssh:1", "sh", "-c",
                        "ls /run/buildkit 2>&1; echo env=$SSH_AUTH_SOCK"],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "No such file" in r.stdout and "env=\n" in r.stdout
    status, history = daemon.request("GET", "/images/ssh:1/history")
    assert status == 200 and b"ssh_agent" not in history and b"type=ssh" not in history
    status, body = daemon.request("GET", "/images/ssh:1/json")
    assert status == 200 and "SSH_AUTH_SOCK" not in json.dumps(json.loads(body)["Config"])
    assert scratch_left(daemon) == []
    # the agent is not in the step's key: the same build without --ssh is cached
    assert "Using cache" in ok(build(daemon, ctx))


KEYFILE_DF = f"""FROM busybox
RUN --mount=type=ssh,id=deploy,target=/tmp/agent,uid=7,gid=8,mode=0660 {TOOLS} \\
    sh -c 'echo "sock=$SSH_AUTH_SOCK"; stat -c "%a %u %g" /tmp/agent; {SSH_ADD} -l'
"""


def test_key_file_served_by_a_private_agent(daemon, agent, tmp_path):
    _sock, key, finger = agent
    ctx = context(tmp_path, KEYFILE_DF)
    cli_tmp = tmp_path / "clitmp"
    cli_tmp.mkdir()
    out = ok(build(daemon, ctx, "--ssh", f"deploy={key}", env={"TMPDIR": str(cli_tmp)}))
    assert "sock=/tmp/agent\n660 7 8\n" in out
    assert f"256 {finger} {COMMENT} (ED25519)" in out
    assert list(cli_tmp.iterdir()) == []  # the private agent's directory went with it
    assert not _processes_naming(str(cli_tmp))
    assert scratch_left(daemon) == []


def _processes_naming(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_missing_id_optional_runs_without_the_socket(daemon, agent, tmp_path):
    sock, _key, _finger = agent
    df = ("FROM busybox\nRUN --mount=type=ssh,id=other sh -c "
          "'test -e /run/buildkit/ssh_agent.0 || echo no-socket; echo sock=$SSH_AUTH_SOCK'\n")  # fmt: skip
    out = ok(build(daemon, context(tmp_path, df), "--no-cache", "--ssh", "default",
                   env={"SSH_AUTH_SOCK": str(sock)}))  # fmt: skip
    assert "no-socket\nsock=/run/buildkit/ssh_agent.0\n" in out
    assert "no-socket" in ok(build(daemon, tmp_path, "--no-cache"))


def test_missing_id_required_fails_with_buildkits_messages(daemon, agent, tmp_path):
    sock, _key, _finger = agent
    df = "FROM busybox\nRUN echo before\nRUN --mount=type=ssh,id=other,required true\n"
    ctx = context(tmp_path, df)
    r = build(daemon, ctx, "--ssh", "default", env={"SSH_AUTH_SOCK": str(sock)})
    assert r.returncode != 0 and "unset ssh forward key other" in r.stdout + r.stderr
    r = build(daemon, ctx)
    assert r.returncode != 0
    assert 'no SSH key "other" forwarded from the client' in r.stdout + r.stderr
    status, body = daemon.request("GET", "/containers/json?all=1")
    assert status == 200 and json.loads(body) in ([], None)
    assert scratch_left(daemon) == []


def test_client_flag_errors(daemon, tmp_path):
    ctx = context(tmp_path, "FROM busybox\n")
    r = build(daemon, ctx, "--ssh", "default")
    assert r.returncode != 0 and "invalid empty ssh agent socket" in r.stderr
    r = build(daemon, ctx, "--ssh", f"x={tmp_path / 'nope'}")
    assert r.returncode != 0 and "no such file or directory" in r.stderr
    (tmp_path / "junk").write_text("not a key\n")
    r = build(daemon, ctx, "--ssh", f"x={tmp_path / 'junk'}")
    assert r.returncode != 0 and f"failed to parse {tmp_path / 'junk'}" in r.stderr


def test_forwarding_leaves_no_threads_or_sessions(daemon, agent, tmp_path):
    """In-process client: after the build, the forwarder's threads are gone and the daemon
    has dropped the session (a second connection with the same id is accepted again)."""
    from dockwright.cli.buildssh import forward_ssh
    from dockwright.client.api import Client

    sock, _key, finger = agent
    ctx = context(tmp_path, DEFAULT_DF.replace("RUN ", "RUN --network=none ", 1))
    tar = subprocess.run(["tar", "-C", str(ctx), "-c", "."], capture_output=True, check=True)
    before = threading.active_count()
    client = Client(daemon.host)
    try:
        with forward_ssh(client, ["default"], {"SSH_AUTH_SOCK": str(sock)}) as headers:
            assert threading.active_count() == before + 1
            headers = {**headers, "Content-Type": "application/x-tar"}
            resp = client.request("POST", "/build", {"nocache": 1}, tar.stdout, headers)
            text = "".join(m.get("stream", "") for m in resp.iter_json())
    finally:
        client.close()
    assert f"{finger} {COMMENT}" in text
    assert threading.active_count() == before
    assert scratch_left(daemon) == []


def _until(check, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds * 20)):
        if check():
            return True
        threading.Event().wait(0.05)
    return False


def test_killed_client_leaves_no_agent(daemon, agent, tmp_path):
    _sock, key, _finger = agent
    ctx = context(tmp_path, "FROM busybox\nRUN --mount=type=ssh,id=k sh -c 'echo up; sleep 3'\n")
    cli_tmp = tmp_path / "clitmp"
    cli_tmp.mkdir()
    args = [
        str(DOCKWRIGHT),
        "-H",
        daemon.host,
        "build",
        "--no-cache",
        "--ssh",
        f"k={key}",
        str(ctx),
    ]
    proc = subprocess.Popen(args, env={**os.environ, "TMPDIR": str(cli_tmp)},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        assert proc.stdout is not None
        while (line := proc.stdout.readline()) and line != b"up\n":
            pass
        assert line == b"up\n" and _processes_naming(str(cli_tmp))
    finally:
        proc.kill()
        proc.wait()
    assert _until(lambda: not _processes_naming(str(cli_tmp)))
    assert _until(lambda: scratch_left(daemon) == [])
