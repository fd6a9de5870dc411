"""Where a build's context comes from: a directory, stdin, or a git repository.

Each `*_context` function plans the tar (Dockerfile name, ignore rules) and returns a
`buildctx.Context` whose chunks are produced lazily; `from_git` clones with the `git` binary.
"""

from __future__ import annotations

import os
import secrets

from dockwright.cli.buildctx import (
    Context,
    LocalDir,
    fail,
    file_member,
    ignore_patterns,
    is_archive,
    read_stream,
    tar_directory,
    walk,
)
from dockwright.cli.ignore import Matcher

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO


def dockerfile_rel(context_dir: str, dockerfile: str) -> str:
    """The Dockerfile relative to the context (`..` when outside it); `-f` is relative to the
    working directory, the default is `Dockerfile` (or `dockerfile`) in the context."""
    if not dockerfile:
        for name in ("Dockerfile", "dockerfile"):
            if os.path.lexists(os.path.join(context_dir, name)):
                return name
        path = os.path.join(context_dir, "Dockerfile")
        raise fail(f"unable to evaluate symlinks in Dockerfile path: lstat {path}: no such file")
    path = os.path.abspath(dockerfile)
    if not os.path.lexists(path):
        raise fail(f"unable to evaluate symlinks in Dockerfile path: lstat {path}: no such file")
    return os.path.relpath(path, context_dir)


def dir_context(context_dir: str, dockerfile: str, stdin_dockerfile: bytes | None) -> Context:
    """A local directory: tar what .dockerignore lets through; a Dockerfile from stdin or from
    outside the directory is added under a random name, as docker's CLI does."""
    if not os.path.isdir(context_dir):
        raise fail(f'path "{context_dir}" not found')
    rel = "" if stdin_dockerfile is not None else dockerfile_rel(context_dir, dockerfile)
    if stdin_dockerfile is None and not rel.startswith(".."):
        paths = walk(context_dir, Matcher(ignore_patterns(context_dir, rel)))
        return Context.of_directory(LocalDir(context_dir, paths, []), rel)
    data = stdin_dockerfile
    if data is None:
        with open(os.path.join(context_dir, rel), "rb") as f:
            data = f.read()
    return _with_extra_dockerfile(context_dir, data)


def _with_extra_dockerfile(context_dir: str, data: bytes) -> Context:
    name = ".dockerfile." + secrets.token_hex(10)
    matcher = Matcher(ignore_patterns(context_dir, ""))
    paths = (p for p in walk(context_dir, matcher) if p != ".dockerignore")
    ignore_path = os.path.join(context_dir, ".dockerignore")
    ignore = b""
    if os.path.isfile(ignore_path):
        with open(ignore_path, "rb") as f:
            ignore = f.read()
    extra = [file_member(name, data), file_member(".dockerignore", ignore + f"\n{name}\n".encode())]
    return Context.of_directory(LocalDir(context_dir, paths, extra), name)


def stdin_context(stdin: IO[bytes], dockerfile: str) -> Context:
    """`-`: a tar (maybe compressed) passed through, or else a lone Dockerfile."""
    head = stdin.read(512)
    while len(head) < 512 and (more := stdin.read(512 - len(head))):
        head += more
    if is_archive(head):
        return Context(read_stream(stdin, head), dockerfile or "Dockerfile")
    data = head + stdin.read()
    return Context(iter([file_member("Dockerfile", data), b"\0" * 1024]), "Dockerfile")


def parse_git_url(url: str) -> tuple[str, str, str]:
    """(repository, ref, subdirectory) of `repo#ref:subdir`."""
    repo, _, fragment = url.partition("#")
    ref, _, subdir = fragment.partition(":")
    return repo, ref, subdir


def clone(url: str, workdir: str) -> str:
    """Clone (shallow when no ref is named) into `workdir`; returns the context directory."""
    repo, ref, subdir = parse_git_url(url)
    target = os.path.join(workdir, "repo")
    args = ["git", "clone", "--quiet", "--recurse-submodules"]
    if not ref:
        args += ["--depth", "1"]
    if not ref and not repo.startswith(("/", ".")) and "://" not in repo and "@" not in repo:
        repo = "https://" + repo  # github.com/owner/name
    _git([*args, "--", _clone_source(repo), target])
    if ref:
        _git(["git", "-C", target, "checkout", "--quiet", ref])
    context_dir = os.path.normpath(os.path.join(target, subdir))
    if not context_dir.startswith(target) or not os.path.isdir(context_dir):
        raise fail(f"subdirectory {subdir!r} not found in {repo}")
    return context_dir


def _clone_source(repo: str) -> str:
    if repo.startswith(("/", ".")):
        return "file://" + os.path.abspath(repo)  # so --depth is honoured
    return repo


def _git(args: list[str]) -> None:
    import subprocess

    proc = subprocess.run(
        args, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if proc.returncode != 0:
        raise fail(f"unable to '{' '.join(args[:2])}': {proc.stderr.strip() or proc.returncode}")


def git_context(context_dir: str, dockerfile: str) -> Context:
    """A cloned repository: like a directory but `-f` is relative to it, and `.git` stays out."""
    rel = dockerfile or "Dockerfile"
    if not os.path.lexists(os.path.join(context_dir, rel)):
        raise fail(f"Dockerfile {rel!r} not found in the repository")
    lines = [*ignore_patterns(context_dir, rel), ".git"]
    paths = walk(context_dir, Matcher(lines))
    return Context(tar_directory(context_dir, paths), rel)
