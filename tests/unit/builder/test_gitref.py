"""Git sources and remote contexts, pure: which strings are repositories, `repo#ref:subdir`,
the git commands planned, content-type sniffing of downloads, and the ADD flags for git."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from dockwright.builder import copyflags as cf
from dockwright.builder import gitref, sniff
from dockwright.builder.gitref import GitRef
from dockwright.builder.parser import Instruction
from dockwright.builder.validate import check_instruction
from dockwright.errors import InvalidParameter, SystemError_

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("remote", "kind"),
    [
        ("https://github.com/moby/moby.git", "git"),
        ("http://127.0.0.1:8000/repo.git#main:sub", "git"),
        ("git://host/repo", "git"),
        ("git@github.com:moby/moby", "git"),
        ("ssh://git@host/repo", "git"),
        ("github.com/moby/moby", "git"),
        ("https://host/context.tar.gz", "url"),
        ("http://host/repo.git/Dockerfile", "url"),
        ("https://host/Dockerfile#frag", "url"),
    ],
)
def test_context_kind(remote, kind):
    assert gitref.context_kind(remote) == kind


def test_context_kind_refuses_what_is_no_url():
    with pytest.raises(SystemError_, match=r"^remoteURL \(ftp://x\) could not be recognized"):
        gitref.context_kind("ftp://x")


@pytest.mark.parametrize(
    ("source", "is_git"),
    [
        ("https://host/repo.git", True),
        ("https://host/repo.git#v1:dir", True),
        ("git@host:org/repo", True),
        ("git://host/repo", True),
        ("ssh://git@host/repo", True),
        ("https://host/file.txt", False),
        ("https://host/repo.git/raw/file", False),
        ("github.com/moby/moby", False),  # a local path to BuildKit's ADD
        ("src/", False),
    ],
)
def test_add_source(source, is_git):
    assert gitref.is_add_source(source) is is_git
    assert cf.is_url(source) is (is_git or source.startswith("https://"))


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        ("https://host/repo.git", GitRef("https://host/repo.git")),
        ("https://host/repo.git#main", GitRef("https://host/repo.git", "main")),
        ("https://host/repo.git#:docker", GitRef("https://host/repo.git", "", "docker")),
        ("https://host/repo.git#v1:a/b/", GitRef("https://host/repo.git", "v1", "a/b")),
        ("https://host/repo.git#pull/42/head", GitRef("https://host/repo.git", "pull/42/head")),
        ("git@host:org/repo.git#dev:sub", GitRef("git@host:org/repo.git", "dev", "sub")),
        ("github.com/org/repo#main", GitRef("https://github.com/org/repo", "main")),
    ],
)
def test_parse(url, ref):
    assert gitref.parse(url) == ref


def test_parse_refuses_a_ref_read_as_an_option():
    with pytest.raises(SystemError_, match="^invalid refspec: --upload-pack=x$"):
        gitref.parse("https://host/repo.git#--upload-pack=x")


def test_fetch_plan_named_ref_shallow_and_head_when_no_ref():
    plan = gitref.fetch_plan(GitRef("git://h/r", "v1"), "/d", shallow=True)
    assert [c.args for c in plan] == [
        ("init", "-q"),
        ("remote", "add", "origin", "git://h/r"),
        ("fetch", "--depth", "1", "origin", "--", "v1"),
        ("checkout", "-q", "--detach", "FETCH_HEAD"),
    ]
    assert [c.failure for c in plan][2:] == ["error fetching", "error checking out v1"]
    head = gitref.fetch_plan(GitRef("http://h/r.git"), "/d", shallow=False)
    assert head[2].args == ("fetch", "origin", "--", "HEAD")


def test_fetch_plan_commit_from_a_dumb_server_fetches_everything():
    commit = "0123456789abcdef0123456789abcdef01234567"
    plan = gitref.fetch_plan(GitRef("http://h/r.git", commit), "/d", shallow=False)
    assert plan[2].args == ("fetch", "--tags", "origin")
    assert plan[3].args == ("checkout", "-q", "--detach", commit)
    smart = gitref.fetch_plan(GitRef("http://h/r.git", commit), "/d", shallow=True)
    assert smart[2].args == ("fetch", "--depth", "1", "origin", "--", commit)


def test_probe_and_submodules():
    assert (
        gitref.probe_url(GitRef("https://h/r.git/"))
        == "https://h/r.git/info/refs?service=git-upload-pack"
    )
    assert gitref.probe_url(GitRef("git@h:r")) is None
    assert gitref.submodule_command(True).args[-1] == "--depth=1"
    assert "--depth=1" not in gitref.submodule_command(False).args


def test_subdir_parts():
    assert gitref.subdir_parts("a/./b/../c") == ["a", "b", "..", "c"]
    with pytest.raises(SystemError_, match='"a/../../x" not within git root'):
        gitref.subdir_parts("a/../../x")


# --- content types of downloaded contexts ------------------------------------------------------


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("Dockerfile")
        tf.addfile(info, io.BytesIO(b""))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("header", "body", "found"),
    [
        ("", b"FROM busybox\nRUN true\n", "text/plain"),
        ("application/octet-stream", b"FROM busybox\n", "text/plain"),
        ("", _tar()[:100], "application/octet-stream"),
        ("", gzip.compress(_tar())[:100], "application/x-gzip"),
        ("application/x-tar", b"anything", "application/x-tar"),
        ("application/gzip", b"\x1f\x8b\x08", "application/gzip"),
        ("text/plain; charset=utf-8", b"FROM x", "text/plain"),
        ("application/x-xz", b"\xfd7zXZ", "application/x-xz"),
        ("text/html", b"FROM x", ""),
        ("", b"  <html><body>x</body></html>", ""),
        ("", b"<?xml version='1.0'?><a/>", ""),
        ("", b"PK\x03\x04rest", ""),
    ],
)
def test_acceptable_content_types(header, body, found):
    assert sniff.acceptable(header, body) == found


# --- ADD --keep-git-dir ------------------------------------------------------------------------


def _add(*flags: tuple[str, str]) -> Instruction:
    return Instruction("add", "https://h/r.git /dst", flags=flags)


def test_keep_git_dir_flag_and_cache_text():
    plain = cf.copy_flags(_add(), ["https://h/r.git"], {}, "\\")
    kept = cf.copy_flags(_add(("keep-git-dir", "true")), ["https://h/r.git"], {}, "\\")
    assert (plain.keep_git_dir, kept.keep_git_dir) == (False, True)
    assert plain.cache_text() == cf.CopyFlags().cache_text()  # existing keys do not change
    assert kept.cache_text() != plain.cache_text()
    with pytest.raises(InvalidParameter, match="invalid boolean value 'maybe' for --keep-git-dir"):
        check_instruction(_add(("keep-git-dir", "maybe")))


def test_checksum_refused_for_git_sources():
    with pytest.raises(InvalidParameter, match=r"^checksum can't be specified for non-HTTP\(S\)"):
        cf.check_checksum("add", ["https://h/r.git"], "sha256:" + "0" * 64)
    cf.check_checksum("add", ["https://h/file.tar"], "sha256:" + "0" * 64)
