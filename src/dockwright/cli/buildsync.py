"""`dockwright build` of a local directory: offer its files, upload only what the daemon lacks.

engine/builds/ctxsync.py has the protocol. The client offers each regular file's fingerprint
(its stat: size, mtime and ctime in ns, inode, mode; BuildKit's file sync also trusts stat) under
a key naming this machine and directory, then sends a tar of the directories, symlinks, missing
files and generated members, with the session in a header. A daemon without the extension (404,
e.g. dockerd) gets the whole context, as before.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat

from dockwright.cli.buildctx import LocalDir, tar_directory
from dockwright.client.errors import APIError
from dockwright.types.buildsync import HEADER, OFFER_PATH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from dockwright.client.api import Client

MACHINE_ID = "/etc/machine-id"


def fingerprint(st: os.stat_result) -> str:
    """What changes whenever the file's bytes may have (ctime moves with every write)."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_mode:o}"


def context_key(directory: str) -> str:
    """This machine's directory: two machines' identical paths never share a kept context."""
    try:
        with open(MACHINE_ID, encoding="ascii", errors="replace") as f:
            machine = f.read().strip()
    except OSError:
        machine = ""
    text = f"{machine or socket.gethostname()}\0{os.path.realpath(directory)}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def offered_files(root: str, paths: list[str]) -> dict[str, str]:
    """The regular files among `paths` with their fingerprints."""
    files: dict[str, str] = {}
    for rel in paths:
        try:
            st = os.lstat(os.path.join(root, rel))
        except FileNotFoundError:
            continue
        if stat.S_ISREG(st.st_mode):
            files[rel] = fingerprint(st)
    return files


def upload(client: Client, local: LocalDir) -> tuple[Iterable[bytes], dict[str, str]]:
    """(the tar chunks to send, the headers naming the sync session)."""
    paths = local.paths
    files = offered_files(local.root, paths)
    try:
        answer = client.post(OFFER_PATH, None, {"Key": context_key(local.root), "Files": files})
    except APIError as exc:
        if exc.status not in (404, 405):
            raise
        return tar_directory(local.root, paths, local.extra), {}  # no sync on this daemon
    missing = set(answer.get("Missing") or ())
    sent = [p for p in paths if p not in files or p in missing]
    return tar_directory(local.root, sent, local.extra), {HEADER: str(answer["Session"])}
