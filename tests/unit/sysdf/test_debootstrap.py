"""`image bootstrap debian:SUITE`: names, mirror discovery from apt sources, argument vectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwright.cli.debootstrap import (
    debian_suite,
    debootstrap_argv,
    find_mirror,
    mirror_from_deb822,
    mirror_from_one_line,
    tar_argv,
)
from dockwright.errors import InvalidParameter, NotFound

pytestmark = pytest.mark.unit

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: http://mirror.example/debian http://second.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def test_suite_from_name() -> None:
    assert debian_suite("debian:bookworm") == "bookworm"
    assert debian_suite("busybox") is None
    assert debian_suite("ubuntu:jammy") is None
    for bad in ("debian", "debian:latest", "debian:Book worm", "debian:../x"):
        with pytest.raises(InvalidParameter, match="name a suite"):
            debian_suite(bad)


def test_deb822_skips_security_and_source_stanzas() -> None:
    assert mirror_from_deb822(DEB822) == "http://mirror.example/debian"
    assert (
        mirror_from_deb822("Types: deb\nEnabled: no\nURIs: http://x/debian\nSuites: sid\n") is None
    )


def test_one_line_format() -> None:
    text = (
        "# deb http://commented.example/debian bookworm main\n"
        "deb http://security.debian.org/debian-security bookworm-security main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://ftp.example/debian/ bookworm main contrib\n"
    )
    assert mirror_from_one_line(text) == "http://ftp.example/debian/"
    assert mirror_from_one_line("deb http://ppa.example/ubuntu jammy main\n") is None


def test_find_mirror_prefers_sources_list_then_parts_in_order(tmp_path: Path) -> None:
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "b.sources").write_text(DEB822)
    (parts / "a.list.disabled").write_text("deb http://disabled.example/debian bookworm main\n")
    (parts / "a.list").write_text("deb http://cloud.example/apt cloud-sdk main\n")
    assert find_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text("deb http://first.example/debian bookworm main\n")
    assert find_mirror(tmp_path) == "http://first.example/debian"


def test_no_mirror(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no debian mirror"):
        find_mirror(tmp_path)


def test_argument_vectors() -> None:
    assert debootstrap_argv("bookworm", Path("/var/tmp/r"), "http://m/debian") == [
        "debootstrap", "--variant=minbase", "bookworm", "/var/tmp/r", "http://m/debian",
    ]  # fmt: skip
    argv = tar_argv(Path("/var/tmp/r"))
    assert argv[:2] == ["tar", "--numeric-owner"] and argv[-4:] == ["/var/tmp/r", "-cf", "-", "."]
    assert "--exclude=./dev/*" in argv


def test_remove_build_dir_deletes_an_unmounted_tree(tmp_path: Path) -> None:
    from dockwright.cli.debootstrap import mounts_under, remove_build_dir

    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "debian_version").write_text("12\n")
    assert mounts_under(root) == []
    remove_build_dir(root)
    assert not root.exists()
