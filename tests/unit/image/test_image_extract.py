"""Applying layer tars to a directory: formats, metadata, and hostile archives."""

from __future__ import annotations

import bz2
import hashlib
import lzma
import os
import stat

import pytest
from layer_tars import MTIME, chunks, directory, file, hardlink, symlink, tar_bytes

from dockwright.errors import InvalidParameter
from dockwright.image.extract import extract

pytestmark = pytest.mark.unit


@pytest.fixture
def dest(tmp_path):
    d = tmp_path / "layer"
    d.mkdir()
    return d


@pytest.fixture
def outside(tmp_path):
    """A directory next to the layer that no entry may touch."""
    o = tmp_path / "outside"
    o.mkdir()
    (o / "secret").write_text("keep")
    return o


def untouched(outside):
    return (
        sorted(os.listdir(outside)) == ["secret"]
        and (outside / "secret").read_text() == "keep"
        and os.stat(outside / "secret").st_nlink == 1
    )


def apply(data, dest):
    return extract(chunks(data), dest, chown=False)


SAMPLE = (
    directory("bin"),
    file("bin/busybox", b"\x7fELF" * 1000, mode=0o755),
    hardlink("bin/sh", "bin/busybox"),
    symlink("bin/ls", "busybox"),
    directory("etc", mode=0o700),
    file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", mode=0o600, mtime=MTIME - 5),
)


@pytest.mark.parametrize("compress", ["plain", "gzip", "bzip2", "xz"])
def test_formats_give_the_diff_id_of_the_uncompressed_tar(compress, dest):
    raw = tar_bytes(*SAMPLE)
    data = {"plain": raw, "gzip": tar_bytes(*SAMPLE, gz=True), "bzip2": bz2.compress(raw),
            "xz": lzma.compress(raw)}[compress]  # fmt: skip
    result = apply(data, dest)
    assert result.diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert result.tar_size == len(raw)
    assert (dest / "bin" / "busybox").read_bytes() == b"\x7fELF" * 1000


def test_metadata_links_and_modes_are_preserved(dest):
    apply(tar_bytes(*SAMPLE), dest)
    busybox = os.stat(dest / "bin" / "busybox")
    assert stat.S_IMODE(busybox.st_mode) == 0o755
    assert busybox.st_mtime == MTIME
    assert os.stat(dest / "bin" / "sh").st_ino == busybox.st_ino
    assert os.readlink(dest / "bin" / "ls") == "busybox"
    assert os.lstat(dest / "bin" / "ls").st_mtime == MTIME
    assert stat.S_IMODE(os.stat(dest / "etc").st_mode) == 0o700
    assert os.stat(dest / "etc").st_mtime == MTIME  # set after its children were written
    assert os.stat(dest / "etc" / "passwd").st_mtime == MTIME - 5


def test_read_only_directory_still_receives_its_children(dest):
    apply(tar_bytes(directory("ro", mode=0o555), file("ro/f", b"x")), dest)
    assert (dest / "ro" / "f").read_bytes() == b"x"
    assert stat.S_IMODE(os.stat(dest / "ro").st_mode) == 0o555


def test_missing_parents_are_created(dest):
    apply(tar_bytes(file("a/b/c", b"1")), dest)
    assert (dest / "a" / "b" / "c").read_bytes() == b"1"
    assert stat.S_IMODE(os.stat(dest / "a").st_mode) == 0o755


def test_later_entries_replace_earlier_ones(dest):
    apply(
        tar_bytes(
            file("x", b"old"), file("x", b"new"), directory("d"), file("d/1"), file("d", b"f")
        ),
        dest,
    )
    assert (dest / "x").read_bytes() == b"new"
    assert (dest / "d").read_bytes() == b"f"


def test_dot_dot_entry_is_rejected_and_writes_nothing_outside(dest, outside):
    with pytest.raises(InvalidParameter, match="escapes the layer"):
        apply(tar_bytes(file("../outside/pwned", b"x")), dest)
    assert untouched(outside)


def test_absolute_names_are_re_rooted(dest, outside):
    apply(tar_bytes(file(f"{outside}/pwned", b"x")), dest)
    assert untouched(outside)
    assert (dest / str(outside).lstrip("/") / "pwned").read_bytes() == b"x"


@pytest.mark.parametrize("target", ["ABS", "../../../../../../../../ABS", "/../ABS"])
def test_writing_through_a_symlink_stays_inside(dest, outside, target):
    link = (
        target.replace("ABS", str(outside).lstrip("/"))
        if target.startswith(".")
        else target.replace("ABS", str(outside))
    )
    apply(
        tar_bytes(symlink("evil", link), file("evil/pwned", b"x"), file("evil/secret", b"y")), dest
    )
    assert untouched(outside)
    assert (dest / str(outside).lstrip("/") / "pwned").read_bytes() == b"x"


def test_symlinked_directory_chain_resolves_inside(dest, outside):
    entries = (symlink("a", "b/c"), symlink("b", "/"), file("a/x", b"1"))
    apply(tar_bytes(*entries), dest)
    assert (dest / "c" / "x").read_bytes() == b"1"


def test_file_over_a_symlink_replaces_the_link(dest, outside):
    apply(tar_bytes(symlink("f", str(outside / "secret")), file("f", b"overwritten?")), dest)
    assert untouched(outside)
    assert (dest / "f").read_bytes() == b"overwritten?"
    assert not os.path.islink(dest / "f")


@pytest.mark.parametrize("target", ["../outside/secret", "../../outside/secret"])
def test_hardlink_climbing_out_is_rejected(dest, outside, target):
    with pytest.raises(InvalidParameter):
        apply(tar_bytes(hardlink("stolen", target)), dest)
    assert untouched(outside)


def test_hardlink_to_absolute_or_through_symlink_never_reaches_outside(dest, outside):
    with pytest.raises(InvalidParameter, match="invalid hardlink"):
        apply(tar_bytes(hardlink("stolen", str(outside / "secret"))), dest)
    with pytest.raises(InvalidParameter, match="invalid hardlink"):
        apply(tar_bytes(symlink("l", str(outside)), hardlink("stolen", "l/secret")), dest)
    assert untouched(outside)


def test_symlink_loop_is_rejected(dest):
    with pytest.raises(InvalidParameter, match="too many levels"):
        apply(tar_bytes(symlink("a", "b"), symlink("b", "a"), file("a/x")), dest)


def test_file_as_parent_is_rejected(dest):
    with pytest.raises(InvalidParameter, match="is not a directory"):
        apply(tar_bytes(file("a", b"1"), file("a/b", b"2")), dest)


@pytest.mark.parametrize("data", [b"", b"not a tar at all" * 100])
def test_garbage_is_rejected(dest, data):
    with pytest.raises(InvalidParameter, match="invalid tar stream"):
        apply(data, dest)


def test_truncated_gzip_is_rejected(dest):
    data = tar_bytes(*SAMPLE, gz=True)
    with pytest.raises(InvalidParameter, match="invalid (gzip|tar) stream"):
        apply(data[: len(data) // 2], dest)


def test_source_errors_pass_through_unchanged(dest):
    data = tar_bytes(*SAMPLE)

    def source():
        yield data[:1000]
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        extract(source(), dest, chown=False)
