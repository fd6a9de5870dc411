"""`cp` (both directions, through the archive endpoints) and `export`."""

from __future__ import annotations

import os
import sys
import tarfile
import tempfile

from dockwright.cli import cpplan
from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.errors import DockwrightError

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, Any

CHUNK = 256 * 1024


class _ChunkReader:
    """A file-like view of an iterator of byte chunks (for tarfile's stream mode)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buf = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buf) < n:
            try:
                self.buf += next(self.chunks)
            except StopIteration:
                break
        if n < 0:
            data, self.buf = self.buf, b""
        else:
            data, self.buf = self.buf[:n], self.buf[n:]
        return data


def _local_path(path: str) -> str:
    absolute = os.path.abspath(path)
    if path.endswith("/.") and not absolute.endswith("/."):
        return absolute + "/."
    if path.endswith("/") and not absolute.endswith("/"):
        return absolute + "/"
    return absolute


def _local_info(path: str) -> cpplan.PathInfo:
    real = path[:-2] if path.endswith("/.") else path
    exists = os.path.lexists(real.rstrip("/") or "/")
    return cpplan.PathInfo(path, exists, os.path.isdir(real) if exists else False)


def _extract_filter(plan: cpplan.CopyPlan, keep_owner: bool) -> Any:
    def filt(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        member = member.replace(name=cpplan.rebase(member.name, plan.old, plan.new), deep=False)
        member = tarfile.tar_filter(member, dest)
        if not keep_owner:
            member = member.replace(
                uid=os.getuid(), gid=os.getgid(), uname="", gname="", deep=False
            )
        return member

    return filt


def copy_from_container(ctx: Context, container: str, src: str, dst: str, p: Parsed) -> int:
    resp = ctx.client.request("GET", f"/containers/{container}/archive", {"path": src})
    if dst == "-":
        for chunk in resp.iter_chunks():
            ctx.write_bytes(chunk)
        return 0
    stat = cpplan.decode_stat(resp.head.get("x-docker-container-path-stat"))
    src_info = cpplan.PathInfo(src, True, cpplan.stat_is_dir(stat))
    dst = _local_path(dst)
    try:
        plan = cpplan.plan_copy(src_info, _local_info(dst))
    except DockwrightError as exc:
        resp.close()
        raise CommandExit(1, f"Error: {exc}") from None
    with tarfile.open(fileobj=_ChunkReader(resp.iter_chunks()), mode="r|") as tar:  # type: ignore[call-overload]
        tar.extractall(plan.directory, filter=_extract_filter(plan, False))
    return 0


def _stat_container(ctx: Context, container: str, path: str) -> cpplan.PathInfo:
    resp = ctx.client.send("HEAD", f"/containers/{container}/archive", {"path": path})
    resp.read()
    if resp.status == 404:
        return cpplan.PathInfo(path, False)
    if resp.status >= 400:
        from dockwright.client.errors import APIError

        raise APIError(resp.status, f"stat {path}: status {resp.status}")
    stat = cpplan.decode_stat(resp.head.get("x-docker-container-path-stat"))
    return cpplan.PathInfo(path, True, cpplan.stat_is_dir(stat))


def _tar_local(src: str, plan: cpplan.CopyPlan, out: IO[bytes]) -> None:
    real = src[:-2] if src.endswith("/.") else src.rstrip("/") or "/"
    top = cpplan.base_name(src)
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.add(
            real, arcname=cpplan.rebase(top, plan.old, plan.new) if top != "." else plan.new or "."
        )


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    while data := f.read(CHUNK):
        yield data


def copy_to_container(ctx: Context, src: str, container: str, dst: str, p: Parsed) -> int:
    dst_info = _stat_container(ctx, container, dst)
    params: dict[str, Any] = {"noOverwriteDirNonDir": True, "copyUIDGID": p.opts["archive"] or None}
    headers = {"Content-Type": "application/x-tar"}
    if src == "-":
        if not dst_info.is_dir:
            raise CommandExit(1, f'destination "{container}:{dst}" must be a directory')
        params["path"] = dst
        body = _chunks(sys.stdin.buffer)
        ctx.client.request("PUT", f"/containers/{container}/archive", params, body, headers).read()
        return 0
    src = _local_path(src)
    src_info = _local_info(src)
    if not src_info.exists:
        raise CommandExit(1, f"lstat {src.rstrip('/.') or src}: no such file or directory")
    try:
        plan = cpplan.plan_copy(src_info, dst_info)
    except DockwrightError as exc:
        raise CommandExit(1, f"Error: {exc}") from None
    params["path"] = plan.directory
    with tempfile.TemporaryFile() as tmp:
        _tar_local(src, plan, tmp)
        tmp.seek(0)
        ctx.client.request(
            "PUT", f"/containers/{container}/archive", params, _chunks(tmp), headers
        ).read()
    return 0


def cp(ctx: Context, p: Parsed) -> int:
    src, dst = p.args
    if not src:
        raise CommandExit(1, "source can not be empty")
    if not dst:
        raise CommandExit(1, "destination can not be empty")
    src_c, src_path = cpplan.split_cp_arg(src)
    dst_c, dst_path = cpplan.split_cp_arg(dst)
    if src_c and dst_c:
        raise CommandExit(1, "copying between containers is not supported")
    if src_c:
        return copy_from_container(ctx, src_c, src_path, dst_path, p)
    if dst_c:
        return copy_to_container(ctx, src_path, dst_c, dst_path, p)
    raise CommandExit(1, "must specify at least one container source")


def export(ctx: Context, p: Parsed) -> int:
    return ctx.download(f"/containers/{p.args[0]}/export", None, p.opts["output"])
