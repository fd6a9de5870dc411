""".dockerignore matching with Docker's semantics."""

from __future__ import annotations

import pytest

from dockwright.builder.ignore import is_ignored, may_reinclude_below, parse_ignore

pytestmark = pytest.mark.unit


def ignored(patterns: str, path: str) -> bool:
    return is_ignored(parse_ignore(patterns), path)


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        ("*.log", "a.log", True),
        ("*.log", "dir/a.log", False),
        ("**/*.log", "dir/sub/a.log", True),
        ("**/*.log", "a.log", True),
        ("dir", "dir/sub/file", True),
        ("/dir/", "dir/file", True),
        ("dir/**", "dir/a/b", True),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("[a-c].txt", "b.txt", True),
        ("[!a-c].txt", "b.txt", False),
        ("# comment\n\n  spaced.txt  ", "spaced.txt", True),
        ("*.md\n!README.md", "README.md", False),
        ("*.md\n!README.md", "other.md", True),
        ("!README.md\n*.md", "README.md", True),
        ("docs\n!docs/keep.txt", "docs/keep.txt", False),
        ("docs\n!docs/keep.txt", "docs/drop.txt", True),
        ("./a/../b", "b", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
    ],
)
def test_patterns(patterns, path, expected):
    assert ignored(patterns, path) is expected


def test_reinclusion_below_an_excluded_directory():
    patterns = parse_ignore("docs\n!docs/keep.txt")
    assert may_reinclude_below(patterns, "docs")
    assert not may_reinclude_below(parse_ignore("docs\n!src/x"), "docs")
