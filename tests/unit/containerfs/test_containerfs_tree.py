"""Archiving and extracting a container's files on a temporary tree (no root, no daemon)."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import tarfile
from pathlib import Path

import pytest

from dockwright.engine.containers.fsops import ContainerFS
from dockwright.engine.containers.tarwalk import tar_tree, thread_chunks
from dockwright.errors import InvalidParameter, NotFound
from dockwright.image.safefs import Confined
from dockwright.types.container import Container, ContainerConfig, HostSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def rootfs(tmp_path):
    """A small container root next to an `outside` directory no operation may touch."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (root / "bin").mkdir()
    (root / "bin" / "busybox").write_bytes(b"\x7fELF" * 3000)
    os.link(root / "bin" / "busybox", root / "bin" / "ash")
    os.symlink("busybox", root / "bin" / "sh")
    os.symlink("/etc", root / "etclink")
    os.symlink("../../../outside", root / "escape")
    os.mkfifo(root / "fifo")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("keep")
    return root


def members(chunks) -> list[tarfile.TarInfo]:
    data = b"".join(chunks)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return tf.getmembers()


def names(chunks) -> list[str]:
    return [m.name for m in members(chunks)]


def test_tree_of_a_directory(rootfs):
    fd = os.open(rootfs, os.O_PATH)
    found = members(tar_tree(fd, "bin", "bin", "bin/", own_fd=True))
    by_name = {m.name: m for m in found}
    assert [m.name for m in found] == ["bin", "bin/ash", "bin/busybox", "bin/sh"]
    assert by_name["bin"].isdir()
    assert by_name["bin/ash"].isreg() and by_name["bin/ash"].size == 12000
    assert by_name["bin/busybox"].islnk() and by_name["bin/busybox"].linkname == "bin/ash"
    assert by_name["bin/sh"].issym() and by_name["bin/sh"].linkname == "busybox"


def test_whole_tree_is_relative_and_never_follows_symlinks(rootfs, tmp_path):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(rootfs / "sock"))
    try:
        found = {
            m.name: m for m in members(tar_tree(os.open(rootfs, os.O_PATH), None, None, "", True))
        }
    finally:
        sock.close()
    assert "sock" not in found  # sockets are skipped
    assert found["etclink"].issym() and found["escape"].issym()
    assert found["fifo"].isfifo()
    assert not any("secret" in name for name in found)
    assert "etc/passwd" in found and "" not in found


def test_root_entries_start_with_a_slash(rootfs):
    data = b"".join(tar_tree(os.open(rootfs, os.O_PATH), None, "/", "/", True))
    assert data[:2] == b"/\0"  # the root itself, as Docker names it (readers strip the "/")
    assert "/etc/passwd" in names([data])


def container(user: str = "") -> Container:
    return Container("c" * 64, "web", 0.0, "", ContainerConfig(user=user), HostSettings())


@pytest.fixture
def fs(rootfs):
    view = ContainerFS(container(), str(rootfs), Confined(rootfs))
    yield view
    view.close()


def test_stat_reports_symlinks_with_their_resolved_target(fs):
    st = fs.stat("/etclink")
    assert st.name == "etclink" and st.mode & (1 << 27) and st.link_target == "/etc"
    followed = fs.stat("/etclink/")
    assert followed.mode & (1 << 31) and followed.link_target == ""
    escape = fs.stat("/escape")
    assert escape.link_target == "/outside"  # resolved inside the root, not next to it


def test_stat_of_a_missing_path(fs):
    with pytest.raises(NotFound, match="Could not find the file /nope in container web"):
        fs.stat("/nope")
    with pytest.raises(NotFound):
        fs.stat("/escape/secret")


def test_archive_names_follow_the_request(fs):
    assert names(fs.tar("/etc")) == ["etc", "etc/passwd"]
    assert names(fs.tar("/etclink/")) == ["etclink", "etclink/passwd"]
    assert names(fs.tar("/etc/.")) == [".", "./passwd"]
    assert names(fs.tar("/etclink")) == ["etclink"]


def upload(*entries: tuple[str, str, bytes | str]) -> list[bytes]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.uid, info.gid = os.getuid(), os.getgid()
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, str(data)
                tf.addfile(info)
            else:
                assert isinstance(data, bytes)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return [raw[i : i + 1000] for i in range(0, len(raw), 1000)]


def put(fs: ContainerFS, path: str, chunks: list[bytes], no_overwrite: bool = False) -> None:
    fs.extract(fs.destination(path), iter(chunks), no_overwrite, None)


def test_extract_files_and_directories(fs, rootfs):
    put(fs, "/etc", upload(("new", "dir", b""), ("new/a.txt", "file", b"hello")))
    assert (rootfs / "etc" / "new" / "a.txt").read_text() == "hello"


def test_extract_through_a_symlinked_destination(fs, rootfs):
    put(fs, "/etclink", upload(("b.txt", "file", b"b")))
    assert (rootfs / "etc" / "b.txt").read_text() == "b"
    assert (rootfs / "etclink").is_symlink()


def test_hostile_tars_never_write_outside(fs, rootfs, tmp_path):
    with pytest.raises(InvalidParameter):
        put(fs, "/etc", upload(("../../../outside/pwn", "file", b"x")))
    put(fs, "/etc", upload(("up", "sym", "../../../../outside"), ("up/pwn", "file", b"x")))
    put(fs, "/etc", upload(("abs", "sym", str(tmp_path / "outside")), ("abs/pwn", "file", b"x")))
    put(fs, "/", upload(("escape/pwn", "file", b"x")))
    assert sorted(os.listdir(tmp_path / "outside")) == ["secret"]
    assert (rootfs / "outside" / "pwn").read_text() == "x"  # what the links mean inside


def test_destination_must_be_an_existing_directory(fs):
    with pytest.raises(NotFound, match="Could not find the file /missing in container web"):
        fs.destination("/missing")
    with pytest.raises(InvalidParameter, match="extraction point is not a directory"):
        fs.destination("/etc/passwd")


def test_no_overwrite_dir_non_dir(fs, rootfs):
    with pytest.raises(InvalidParameter, match="cannot overwrite directory"):
        put(fs, "/", upload(("etc", "file", b"x")), no_overwrite=True)
    with pytest.raises(InvalidParameter, match="cannot overwrite non-directory"):
        put(fs, "/etc", upload(("passwd", "dir", b"")), no_overwrite=True)
    assert (rootfs / "etc" / "passwd").is_file()
    put(fs, "/etc", upload(("passwd", "dir", b"")))  # allowed without the flag
    assert (rootfs / "etc" / "passwd").is_dir()


def test_bad_upload_is_a_400(fs):
    with pytest.raises(InvalidParameter):
        put(fs, "/etc", [b"this is no tar archive" * 40])


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_thread_chunks_release_descriptors_when_closed_early(rootfs):
    (rootfs / "big").write_bytes(b"x" * (3 << 20))

    async def first_chunk() -> bytes:
        stream = thread_chunks(tar_tree(os.open(rootfs, os.O_PATH), None, None, "", True))
        chunk = await anext(stream)
        await stream.aclose()
        return chunk

    before = open_fds()
    assert asyncio.run(first_chunk())
    assert open_fds() == before


def test_thread_chunks_yield_the_whole_archive(rootfs):
    async def collect() -> list[bytes]:
        gen = tar_tree(os.open(rootfs, os.O_PATH), "etc", "etc", "etc/", True)
        return [c async for c in thread_chunks(gen)]

    assert names(asyncio.run(collect())) == ["etc", "etc/passwd"]


def test_paths_resolve_relative_to_the_view(fs, rootfs):
    assert fs.canonical(("etclink", "passwd")) == ("etc", "passwd")
    assert fs.canonical(("escape", "x")) == ("outside", "x")
    assert Path(fs.root_path) == rootfs
