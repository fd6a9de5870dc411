"""The generated bash completion script: valid bash, and it completes commands and flags."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dockwright.cli.cmd_completion import bash_script, zsh_script

pytestmark = pytest.mark.unit


def _complete(script: Path, *words: str) -> list[str]:
    probe = (
        f"source {script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        "_dockwright; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
    return out.split()


def test_bash_script_completes(tmp_path: Path) -> None:
    script = tmp_path / "comp.sh"
    script.write_text(bash_script("dockwright"))
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert _complete(script, "dockwright", "ru") == ["run"]
    assert _complete(script, "dockwright", "container", "st") == ["start", "stats", "stop"]
    assert _complete(script, "dockwright", "run", "--rm", "--na") == ["--name"]
    assert "bootstrap" in _complete(script, "dockwright", "image", "")


def test_zsh_wraps_bash() -> None:
    assert zsh_script("dockwright").startswith("#compdef dockwright\n")
