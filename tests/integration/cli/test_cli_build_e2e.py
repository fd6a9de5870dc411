"""`dockwright build` against a real daemon, compared with the real `docker build` (legacy
builder) on the same context."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cli_e2e import DOCKWRIGHT, docker, dockwright, mask

pytestmark = pytest.mark.integration

DOCKERFILE = """FROM busybox
ARG GREETING=hello
LABEL purpose=test
COPY keep.txt /keep.txt
RUN echo "$GREETING" > /greeting && cat /keep.txt
CMD ["cat", "/greeting"]
"""


def _context(tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "Dockerfile").write_text(DOCKERFILE)
    (tmp / "keep.txt").write_text("kept\n")
    (tmp / "secret.txt").write_text("ignored\n")
    (tmp / ".dockerignore").write_text("secret.txt\n")
    return tmp


_DEPRECATED = re.compile(r"DEPRECATED: The legacy builder.*?environment-variable\.\n\n", re.S)


def _normalize(text: str) -> str:
    """Mask ids and the context size (tar padding differs), drop docker's deprecation notice."""
    text = re.sub(r"(Sending build context to Docker daemon)  \S+", r"\1  <SIZE>", text)
    return mask(_DEPRECATED.sub("", text))


def test_build_matches_docker(daemon, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    ctx = str(_context(tmp_path))
    ours = dockwright(daemon.host, "build", "--no-cache", "-t", "dwt-build:one", ctx)
    theirs = docker(daemon.host, "build", "--no-cache", "-t", "dwt-build:two", ctx)
    assert ours.status == theirs.status == 0, (ours, theirs)
    assert _normalize(ours.out).replace("one", "X") == _normalize(theirs.out).replace("two", "X")
    run = dockwright(daemon.host, "run", "--rm", "dwt-build:one")
    assert run.out == "hello\n"
    files = dockwright(daemon.host, "run", "--rm", "dwt-build:one", "ls", "/")
    assert "secret.txt" not in files.out


def test_quiet_and_iidfile(daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _context(tmp_path / "c")
    iid = tmp_path / "iid"
    ours = dockwright(daemon.host, "build", "-q", "--iidfile", str(iid), "-t", "dwt-q", str(ctx))
    assert ours.status == 0, ours
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", ours.out), ours.out
    assert iid.read_text() == ours.out.strip()
    inspect = dockwright(daemon.host, "inspect", "-f", "{{.Id}}", "dwt-q")
    assert inspect.out.strip() == ours.out.strip()
    theirs = docker(daemon.host, "build", "-q", "-t", "dwt-q2", str(ctx))
    assert theirs.status == 0 and mask(theirs.out) == mask(ours.out), theirs


def test_dockerfile_from_stdin_and_build_arg(daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _context(tmp_path)
    ours = dockwright(
        daemon.host,
        "build",
        "-f",
        "-",
        "--build-arg",
        "GREETING=bonjour",
        "-t",
        "dwt-stdin",
        str(ctx),
        stdin=DOCKERFILE.replace("hello", "unused"),
    )
    assert ours.status == 0, ours
    assert dockwright(daemon.host, "run", "--rm", "dwt-stdin").out == "bonjour\n"


def test_build_arg_from_environment(daemon, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ctx = _context(tmp_path)
    monkeypatch.setenv("GREETING", "from-env")
    ours = dockwright(daemon.host, "build", "--build-arg", "GREETING", "-t", "dwt-env", str(ctx))
    assert ours.status == 0, ours
    assert dockwright(daemon.host, "run", "--rm", "dwt-env").out == "from-env\n"


def test_context_tar_on_stdin(daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _context(tmp_path / "c")
    tar = subprocess.run(["tar", "-C", str(ctx), "-cf", "-", "."], capture_output=True, check=True)
    proc = subprocess.run(
        [*_cli(daemon), "build", "-t", "dwt-tar", "-"], input=tar.stdout, capture_output=True
    )
    assert proc.returncode == 0, proc
    assert dockwright(daemon.host, "run", "--rm", "dwt-tar").out == "hello\n"


def test_lone_dockerfile_on_stdin(daemon) -> None:  # type: ignore[no-untyped-def]
    ours = dockwright(
        daemon.host, "build", "-t", "dwt-lone", "-", stdin='FROM busybox\nCMD ["echo", "lone"]\n'
    )
    assert ours.status == 0, ours
    assert dockwright(daemon.host, "run", "--rm", "dwt-lone").out == "lone\n"


def test_git_repository(daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo = _context(tmp_path / "repo")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    ours = dockwright(daemon.host, "build", "-t", "dwt-git", f"file://{repo}")
    assert ours.status == 0, ours
    assert dockwright(daemon.host, "run", "--rm", "dwt-git").out == "hello\n"


def test_failing_run_exits_1_like_docker(daemon, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo about to fail; exit 3\n")
    ours = dockwright(daemon.host, "build", "--no-cache", str(tmp_path))
    theirs = docker(daemon.host, "build", "--no-cache", str(tmp_path))
    assert ours.status == 1
    assert theirs.status == 1
    assert _normalize(ours.out) == _normalize(theirs.out)
    assert _normalize(ours.err) == _normalize(theirs.err)


def _cli(daemon) -> list[str]:  # type: ignore[no-untyped-def]
    return [DOCKWRIGHT, "-H", daemon.host]


def test_git_ref_and_subdirectory(daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo = tmp_path / "repo"
    _context(repo / "sub")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    subprocess.run([*git, "tag", "v1"], check=True)
    (repo / "sub" / "Dockerfile").write_text("FROM busybox\nRUN false\n")
    subprocess.run([*git, "commit", "-qam", "broken"], check=True)
    ours = dockwright(daemon.host, "build", "-t", "dwt-gitref", f"{repo}/.git#v1:sub")
    assert ours.status == 0, ours
    assert dockwright(daemon.host, "run", "--rm", "dwt-gitref").out == "hello\n"


def test_dockerfile_outside_the_context(daemon, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _context(tmp_path / "c")
    other = tmp_path / "other.Dockerfile"
    other.write_text('FROM busybox\nCOPY keep.txt /k\nCMD ["cat", "/k"]\n')
    ours = dockwright(daemon.host, "build", "-f", str(other), "-t", "dwt-out", str(ctx))
    assert ours.status == 0, ours
    assert dockwright(daemon.host, "run", "--rm", "dwt-out").out == "kept\n"
