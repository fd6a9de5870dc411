"""nftables through the `nft` binary: a whole script applied in one atomic transaction."""

from __future__ import annotations

import json
import shutil
import subprocess

from dockwright.errors import SystemError_

NFT = shutil.which("nft") or "/usr/sbin/nft"


def apply(script: str) -> None:
    """Run `script` with `nft -f -`; either all of it takes effect or none."""
    proc = subprocess.run([NFT, "-f", "-"], input=script, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemError_(f"nft failed: {proc.stderr.strip().lower()}")


def tables() -> list[tuple[str, str]]:
    """(family, name) of every table in the daemon's netns."""
    proc = subprocess.run([NFT, "-j", "list", "tables"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemError_(f"nft list tables failed: {proc.stderr.strip().lower()}")
    items = json.loads(proc.stdout or "{}").get("nftables", [])
    return [(i["table"]["family"], i["table"]["name"]) for i in items if "table" in i]
