"""Confined path walking and removal of arbitrarily deep trees."""

from __future__ import annotations

import os

import pytest

from dockwright.errors import InvalidParameter
from dockwright.image.fstree import tree_size, walk
from dockwright.image.safefs import Confined, remove_tree

pytestmark = pytest.mark.unit


def deep_tree(root, depth):
    fd = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    with open(os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
        f.write(b"x" * 10)
    os.close(fd)


def test_deep_trees_walk_and_remove_without_recursion_limits(tmp_path):
    (tmp_path / "t").mkdir()
    deep_tree(tmp_path / "t", 1100)
    assert sum(1 for _ in walk(tmp_path / "t")) == 1101
    assert tree_size(tmp_path / "t") == 10
    remove_tree(tmp_path / "t")
    assert not (tmp_path / "t").exists()


def test_remove_tree_never_follows_symlinks(tmp_path):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "precious").write_text("x")
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "sub" / "link").symlink_to(keep)
    (victim / "file").write_text("y")
    os.mkfifo(victim / "fifo")
    remove_tree(victim)
    assert not victim.exists()
    assert (keep / "precious").read_text() == "x"


def test_remove_tree_of_a_file_a_symlink_or_nothing(tmp_path):
    (tmp_path / "f").write_text("x")
    (tmp_path / "l").symlink_to(tmp_path / "f")
    remove_tree(tmp_path / "l")
    assert (tmp_path / "f").exists() and not (tmp_path / "l").exists()
    remove_tree(tmp_path / "f")
    remove_tree(tmp_path / "missing")
    assert os.listdir(tmp_path) == []


def test_confined_open_dir_resolves_symlinks_inside_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "real" / "x").mkdir(parents=True)
    (root / "abs").symlink_to("/real")
    (root / "up").symlink_to("../../../../real")
    (root / "file").write_text("f")
    with Confined(root) as c:
        for parts in (("abs", "x"), ("up", "x"), ("real", "..", "..", "real", "x")):
            fd = c.open_dir(parts)
            try:
                assert os.path.samefile(f"/proc/self/fd/{fd}", root / "real" / "x")
            finally:
                os.close(fd)
        with pytest.raises(FileNotFoundError):
            c.open_dir(("nothing",))
        with pytest.raises(InvalidParameter, match="not a directory"):
            c.open_dir(("file", "x"), create=True)
        fd = c.open_dir(("new", "dirs"), create=True)
        os.close(fd)
    assert (root / "new" / "dirs").is_dir()
