import os

import pytest

from dockwright.engine.containers.executable import (
    StartFailed,
    check_executable,
    check_workdir,
    resolve_in_root,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def root(tmp_path):
    (tmp_path / "bin").mkdir()
    exe = tmp_path / "bin" / "busybox"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    os.symlink("/bin/busybox", tmp_path / "bin" / "sh")  # absolute: must stay inside root
    os.symlink("../../../../../../etc", tmp_path / "escape")
    (tmp_path / "data").write_text("x")
    (tmp_path / "dir").mkdir()
    return str(tmp_path)


def test_resolves_absolute_symlinks_inside_root(root):
    assert resolve_in_root(root, "/bin/sh") == root + "/bin/busybox"
    assert resolve_in_root(root, "/escape/passwd") in (None, root + "/etc/passwd")
    assert not (resolve_in_root(root, "/escape") or "").startswith("/etc")


def test_path_search_and_errors(root):
    check_executable(root, "sh", ("PATH=/usr/bin:/bin",), "/")
    check_executable(root, "/bin/sh", (), "/")
    with pytest.raises(StartFailed, match="executable file not found in \\$PATH") as e:
        check_executable(root, "nosuch", ("PATH=/bin",), "/")
    assert e.value.exit_code == 127
    with pytest.raises(StartFailed, match="no such file or directory") as e:
        check_executable(root, "/nope", (), "/")
    assert e.value.exit_code == 127
    with pytest.raises(StartFailed, match="permission denied") as e:
        check_executable(root, "/data", (), "/")
    assert e.value.exit_code == 126
    with pytest.raises(StartFailed, match="is a directory") as e:
        check_executable(root, "/dir", (), "/")
    assert e.value.exit_code == 126


def test_exec_workdir_missing_is_runc_wording(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("")
    check_workdir(str(tmp_path), "/etc")
    with pytest.raises(StartFailed) as missing:
        check_workdir(str(tmp_path), "/nonexist")
    assert missing.value.exit_code == 126
    assert 'chdir to cwd ("/nonexist") set in config.json failed: no such file' in (
        missing.value.for_exec().message
    )
    with pytest.raises(StartFailed, match="not a directory"):
        check_workdir(str(tmp_path), "/etc/passwd")
