"""`dockwright build`: flags, query parameters, the stream display and context sources."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from dockwright.cli import spec
from dockwright.cli.buildctx import is_archive, is_git_url
from dockwright.cli.buildsrc import dir_context, parse_git_url, stdin_context
from dockwright.cli.cmd_build import build_params, parse_kv, show
from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import parse

pytestmark = pytest.mark.unit

BUILD = spec.COMMANDS["image build"]


def test_build_is_routed_from_both_spellings() -> None:
    assert spec.resolve(["build", "."])[0] == "image build"
    assert spec.resolve(["image", "build", "."])[0] == "image build"


def test_flags_parse_like_docker() -> None:
    p = parse(
        BUILD, ["-t", "a", "--tag=b:1", "--build-arg", "X=1", "-f", "-", "-q", "--rm=false", "."]
    )
    assert p.opts["tag"] == ["a", "b:1"]
    assert p.opts["build_arg"] == ["X=1"]
    assert p.opts["file"] == "-"
    assert p.opts["quiet"] is True
    assert p.opts["rm"] is False
    assert p.args == ["."]


def test_build_args_take_bare_keys_from_the_environment() -> None:
    env = {"FROM_ENV": "yes"}
    assert parse_kv(["A=1", "B=", "FROM_ENV", "UNSET"], env, True) == {
        "A": "1",
        "B": "",
        "FROM_ENV": "yes",
        "UNSET": None,
    }
    assert parse_kv(["flag"], env, False) == {"flag": ""}


def _opts(*argv: str) -> dict[str, object]:
    return parse(BUILD, [*argv, "."]).opts


def test_query_parameters() -> None:
    opts = _opts(
        "-t", "x", "--no-cache", "--pull", "--label", "a=b", "--add-host", "h:1.2.3.4",
        "--add-host", "g:5.6.7.8", "--shm-size", "64m", "--cache-from", "img", "--target", "s1",
        "--network", "host", "--force-rm",
    )  # fmt: skip
    q = build_params(opts, "Dockerfile", {})
    assert q["t"] == ["x"]
    assert q["nocache"] is True and q["pull"] is True and q["forcerm"] is True
    assert q["labels"] == {"a": "b"}
    assert q["extrahosts"] == "h:1.2.3.4,g:5.6.7.8"
    assert q["shmsize"] == 64 * 1024 * 1024
    assert q["cachefrom"] == '["img"]'
    assert q["target"] == "s1" and q["networkmode"] == "host" and q["rm"] is True
    assert q["buildargs"] is None and q["q"] is None


def test_bad_progress_mode_is_refused() -> None:
    with pytest.raises(CommandExit):
        build_params(_opts("--progress", "fancy"), "Dockerfile", {})


def _ctx() -> Context:
    return Context(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.BytesIO())


def test_show_prints_streams_but_not_aux_and_returns_the_id() -> None:
    ctx = _ctx()
    msgs = [{"stream": "Step 1/1 : FROM x\n"}, {"aux": {"ID": "sha256:ab"}}, {"stream": "done\n"}]
    assert show(ctx, msgs, False) == "sha256:ab"
    assert ctx.stdout.getvalue() == "Step 1/1 : FROM x\ndone\n"  # type: ignore[attr-defined]


def test_show_quiet_prints_nothing() -> None:
    ctx = _ctx()
    assert show(ctx, [{"stream": "x\n"}, {"aux": {"ID": "sha256:cd"}}], True) == "sha256:cd"
    assert ctx.stdout.getvalue() == ""  # type: ignore[attr-defined]


def test_show_error_exits_with_the_daemon_message() -> None:
    err = {"error": "The command '/bin/sh -c false' returned a non-zero code: 1"}
    with pytest.raises(CommandExit) as exc:
        show(_ctx(), [{"stream": "Step 1/2\n"}, {"errorDetail": {"message": "x"}, **err}], False)
    assert exc.value.status == 1
    assert exc.value.message == err["error"]


def _names(chunks: object) -> dict[str, bytes]:
    data = b"".join(chunks)  # type: ignore[arg-type]
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {
            m.name: (tf.extractfile(m).read() if m.isreg() else b"")  # type: ignore[union-attr]
            for m in tf.getmembers()
        }


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_directory_context_honours_dockerignore(tmp_path: Path) -> None:
    ignore = "# comment\n*.log\n/build\n**/tmp\n!keep.log\nDockerfile\n.dockerignore\n"
    root = _tree(
        tmp_path,
        {
            "Dockerfile": "FROM x\n",
            ".dockerignore": ignore,
            "a.log": "",
            "keep.log": "",
            "src/main.c": "",
            "src/tmp/x": "",
            "build/out": "",
            "sub/a.log": "",
        },
    )
    ctx = dir_context(str(root), "", None)
    names = _names(ctx.chunks)
    assert ctx.dockerfile == "Dockerfile"
    assert {"Dockerfile", ".dockerignore", "keep.log", "src/main.c", "sub/a.log"} <= set(names)
    assert not {"a.log", "src/tmp/x", "src/tmp", "build", "build/out"} & set(names)
    data = b"".join(dir_context(str(root), "", None).chunks)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        assert {(m.uid, m.gid) for m in tf.getmembers()} == {(0, 0)}


def test_exception_inside_an_excluded_directory(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "Dockerfile": "",
            ".dockerignore": "docs\n!docs/keep.md\n",
            "docs/a": "",
            "docs/keep.md": "",
        },
    )
    names = set(_names(dir_context(str(root), "", None).chunks))
    assert "docs/keep.md" in names and "docs/a" not in names


def test_named_dockerfile_ignore_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(
        tmp_path,
        {
            "app.Dockerfile": "FROM x\n",
            "app.Dockerfile.dockerignore": "a\n",
            ".dockerignore": "b\n",
            "a": "",
            "b": "",
        },
    )
    monkeypatch.chdir(tmp_path)
    ctx = dir_context(str(root), "app.Dockerfile", None)
    assert ctx.dockerfile == "app.Dockerfile"
    names = set(_names(ctx.chunks))
    assert "b" in names and "a" not in names


def test_dockerfile_from_stdin_gets_a_random_name_and_is_ignored(tmp_path: Path) -> None:
    root = _tree(tmp_path, {".dockerignore": "x\n", "x": "", "y": ""})
    ctx = dir_context(str(root), "", b"FROM y\n")
    names = _names(ctx.chunks)
    assert ctx.dockerfile.startswith(".dockerfile.")
    assert names[ctx.dockerfile] == b"FROM y\n"
    assert names[".dockerignore"] == f"x\n\n{ctx.dockerfile}\n".encode()
    assert "x" not in names and "y" in names


def test_missing_context_and_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(CommandExit, match='path ".*nope" not found'):
        dir_context(str(tmp_path / "nope"), "", None)
    with pytest.raises(CommandExit, match="Dockerfile"):
        dir_context(str(tmp_path), "", None)


def test_stdin_tar_is_passed_through_and_text_becomes_a_dockerfile() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("Dockerfile")
        info.size = 7
        tf.addfile(info, io.BytesIO(b"FROM x\n"))
    assert is_archive(buf.getvalue()[:512])
    ctx = stdin_context(io.BytesIO(buf.getvalue()), "")
    assert b"".join(ctx.chunks) == buf.getvalue()
    lone = stdin_context(io.BytesIO(b"FROM busybox\n"), "")
    assert _names(lone.chunks) == {"Dockerfile": b"FROM busybox\n"}


def test_git_urls() -> None:
    assert is_git_url("git://host/repo") and is_git_url("git@github.com:a/b.git")
    assert is_git_url("https://example.com/a/b.git") and is_git_url("file:///srv/repo")
    assert not is_git_url("https://example.com/context.tar") and not is_git_url(".")
    assert parse_git_url("file:///r#main:sub/dir") == ("file:///r", "main", "sub/dir")
