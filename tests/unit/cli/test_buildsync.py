"""The client side of a context sync (cli/buildsync.py): what is offered and what is sent."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from dockwright.cli.buildctx import LocalDir, walk
from dockwright.cli.buildsync import context_key, fingerprint, offered_files, upload
from dockwright.cli.ignore import Matcher
from dockwright.client.errors import APIError

pytestmark = pytest.mark.unit


class FakeClient:
    """Answers the offer with `missing`, or refuses it with `status`."""

    def __init__(self, missing: list[str] | None = None, status: int = 0) -> None:
        self.missing, self.status, self.offers = missing or [], status, []

    def post(self, path, params, body):  # type: ignore[no-untyped-def]
        self.offers.append((path, body))
        if self.status:
            raise APIError(self.status, "page not found")
        return {"Session": "s1", "Missing": self.missing}


def members(chunks) -> list[str]:  # type: ignore[no-untyped-def]
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tf:
        return sorted(m.name.rstrip("/") for m in tf.getmembers())


@pytest.fixture
def local(tmp_path: Path) -> LocalDir:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "link").symlink_to("b.txt")
    return LocalDir(str(tmp_path), walk(str(tmp_path), Matcher([])), [])


def test_only_regular_files_are_offered_and_a_write_changes_the_fingerprint(local) -> None:  # type: ignore[no-untyped-def]
    files = offered_files(local.root, local.paths)
    assert sorted(files) == ["b.txt", "src/a.txt"]
    path = os.path.join(local.root, "b.txt")
    before = fingerprint(os.lstat(path))
    with open(path, "w") as f:
        f.write("B")  # same size
    assert fingerprint(os.lstat(path)) != before
    assert context_key(local.root) == context_key(local.root + "/.") != context_key("/other")


def test_the_upload_holds_directories_links_and_missing_files(local) -> None:  # type: ignore[no-untyped-def]
    client = FakeClient(missing=["b.txt"])
    chunks, headers = upload(client, local)  # type: ignore[arg-type]
    assert headers == {"X-Dockwright-Context-Session": "s1"}
    assert members(chunks) == ["b.txt", "link", "src"]
    assert client.offers[0][0] == "/build/context"
    assert sorted(client.offers[0][1]["Files"]) == ["b.txt", "src/a.txt"]


def test_a_daemon_without_sync_gets_everything(local) -> None:  # type: ignore[no-untyped-def]
    chunks, headers = upload(FakeClient(status=404), local)  # type: ignore[arg-type]
    assert headers == {} and members(chunks) == ["b.txt", "link", "src", "src/a.txt"]
    with pytest.raises(APIError):
        upload(FakeClient(status=400), local)  # type: ignore[arg-type]
