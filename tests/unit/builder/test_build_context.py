"""Context helpers on a temporary directory: pruning ignored files, finding and hashing sources,
resolving paths inside a root and --chown lookups."""

from __future__ import annotations

import os

import pytest

from dockwright.builder import context as ctx
from dockwright.builder.copy import owner, resolve_in_root
from dockwright.builder.ignore import parse_ignore
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit


def tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_prune_keeps_exceptions(tmp_path):
    tree(tmp_path, {"a.log": "", "docs/keep.txt": "", "docs/drop.txt": "", "src/x.py": ""})
    ctx.prune(tmp_path, parse_ignore("*.log\ndocs\n!docs/keep.txt"))
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["docs/keep.txt", "src/x.py"]


def test_find_sources_with_wildcards(tmp_path):
    tree(tmp_path, {"a.txt": "", "b.txt": "", "c.md": "", "d/e.txt": ""})
    assert [s.name for s in ctx.find_sources(tmp_path, "*.txt")] == ["a.txt", "b.txt"]
    assert [s.name for s in ctx.find_sources(tmp_path, "*/e.txt")] == ["e.txt"]
    assert ctx.find_sources(tmp_path, "missing") == []
    [d] = ctx.find_sources(tmp_path, "./d/")
    assert d.is_dir and d.name == "d"


def test_hash_sees_content_and_mode_not_mtime(tmp_path):
    tree(tmp_path, {"d/a": "one"})
    sources = ctx.find_sources(tmp_path, "d")
    first = ctx.hash_sources(sources)
    os.utime(tmp_path / "d" / "a", (1, 1))
    assert ctx.hash_sources(sources) == first
    (tmp_path / "d" / "a").write_text("two")
    assert ctx.hash_sources(sources) != first


def test_resolve_in_root_keeps_symlinks_inside(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink("/real", tmp_path / "abs")
    os.symlink("../../..", tmp_path / "up")
    assert resolve_in_root(tmp_path, "/abs/f") == tmp_path / "real" / "f"
    assert resolve_in_root(tmp_path, "/up/etc") == tmp_path / "etc"


def test_owner_lookup(tmp_path):
    tree(
        tmp_path,
        {"etc/passwd": "app:x:1000:1001::/home/app:/bin/sh\n", "etc/group": "staff:x:50:\n"},
    )
    assert owner(tmp_path, "") == (0, 0)
    assert owner(tmp_path, "7") == (7, 7)
    assert owner(tmp_path, "app") == (1000, 1001)
    assert owner(tmp_path, "app:staff") == (1000, 50)
    with pytest.raises(InvalidParameter, match="unable to find user nobody"):
        owner(tmp_path, "nobody")


def test_named_dockerfile_ignore_file_wins(tmp_path):
    tree(tmp_path, {".dockerignore": "a\n", "sub/app.Dockerfile.dockerignore": "b\n"})
    assert [p.text for p in ctx.load_ignore(tmp_path, "sub/app.Dockerfile")] == ["b"]
    assert [p.text for p in ctx.load_ignore(tmp_path, "Dockerfile")] == ["a"]


def test_dockerfile_outside_the_context_is_refused(tmp_path):
    (tmp_path / "ctx").mkdir()
    (tmp_path / "outside").write_text("FROM x\n")
    with pytest.raises(InvalidParameter, match="must be within the build context"):
        ctx.read_text(tmp_path / "ctx", "../outside")
