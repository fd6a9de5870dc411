"""The busybox rootfs tarball: contents, determinism, and its import through the API."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from cli_fake_daemon import FakeRequest, FakeResponse, error, fake_daemon

from dockwright.cli.bootstrap import link_target, plan_rootfs, write_busybox_rootfs
from dockwright.cli.main import main

pytestmark = pytest.mark.unit


def _tar(busybox: str = "/bin/busybox") -> bytes:
    buf = io.BytesIO()
    write_busybox_rootfs(buf, busybox)
    return buf.getvalue()


@pytest.fixture(scope="module")
def rootfs() -> tarfile.TarFile:
    return tarfile.open(fileobj=io.BytesIO(_tar()))


def test_deterministic() -> None:
    assert _tar() == _tar()


def test_sh_is_a_link_to_busybox(rootfs: tarfile.TarFile) -> None:
    sh = rootfs.getmember("bin/sh")
    assert sh.issym() and sh.linkname == "busybox"
    assert rootfs.getmember("usr/bin/env").linkname == "../../bin/busybox"
    assert rootfs.getmember("bin/busybox").isfile()
    assert rootfs.getmember("bin/busybox").mode == 0o755


def test_passwd_and_group(rootfs: tarfile.TarFile) -> None:
    passwd = rootfs.extractfile("etc/passwd").read().decode()  # type: ignore[union-attr]
    group = rootfs.extractfile("etc/group").read().decode()  # type: ignore[union-attr]
    assert passwd.startswith("root:x:0:0:")
    assert "nobody:x:65534:65534:" in passwd
    assert {line.split(":")[0] for line in group.splitlines()} == {"root", "nobody", "nogroup"}


def test_directories_and_modes(rootfs: tarfile.TarFile) -> None:
    for name in ("tmp", "root", "proc", "sys", "dev", "var", "home", "etc"):
        assert rootfs.getmember(name).isdir(), name
    assert rootfs.getmember("tmp").mode == 0o1777
    assert rootfs.getmember("root").mode == 0o700


def test_owner_and_mtime_fixed(rootfs: tarfile.TarFile) -> None:
    members = rootfs.getmembers()
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, members[0].mtime)}


def test_parents_come_first_and_sorted() -> None:
    entries = plan_rootfs(b"x", ["usr/local/bin/foo", "bin/ls", "bin/busybox"])
    paths = [e.path for e in entries]
    assert (
        paths.index("usr/local") < paths.index("usr/local/bin") < paths.index("usr/local/bin/foo")
    )
    assert paths == sorted(paths, key=lambda p: p.split("/"))
    assert link_target("usr/local/bin/foo") == "../../../bin/busybox"


def test_missing_busybox_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="busybox binary not found: .*nope"):
        _tar(str(tmp_path / "nope"))


def _importer(received: list[FakeRequest]):
    def handler(req: FakeRequest) -> FakeResponse:
        received.append(req)
        if req.path != "/v1.45/images/create":
            return error(404, f"page not found: {req.path}")
        return FakeResponse(200, chunks=[b'{"status":"sha256:' + b"ab" * 32 + b'"}\r\n'])

    return handler


def test_bootstrap_imports_through_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    received: list[FakeRequest] = []
    with fake_daemon(tmp_path, _importer(received)) as d:
        status = main(["-H", d.url, "image", "bootstrap", "busybox"])
    assert status == 0
    assert capsys.readouterr().out == "sha256:" + "ab" * 32 + "\n"
    (req,) = received
    assert req.method == "POST"
    assert (req.q("fromSrc"), req.q("repo"), req.q("tag")) == ("-", "busybox", "latest")
    assert req.headers.get("transfer-encoding") == "chunked"
    assert req.body == _tar()


def test_bootstrap_custom_tag(tmp_path: Path) -> None:
    received: list[FakeRequest] = []
    with fake_daemon(tmp_path, _importer(received)) as d:
        assert main(["-H", d.url, "image", "bootstrap", "--tag", "bb:1.36", "busybox"]) == 0
    assert (received[0].q("repo"), received[0].q("tag")) == ("bb", "1.36")


def test_bootstrap_refuses_other_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["image", "bootstrap", "alpine"]) == 1
    assert "cannot bootstrap 'alpine'" in capsys.readouterr().err
