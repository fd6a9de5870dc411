"""What runs in a container and what it uses: `docker top` and `docker stats`.

`top` runs the host's procps `ps` with the caller's arguments, as Docker does, and keeps the
rows whose PID is in the container's cgroup. `stats` samples the container's v1 cgroups
(`kernel.cgroup_stats`); a stopped container yields empty samples, like Docker's.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import AsyncGenerator, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockwright.errors import Conflict, InvalidParameter, NotFound, SystemError_
from dockwright.kernel.cgroup_stats import CgroupStats, read_stats
from dockwright.kernel.cgroups import cgroup_pids
from dockwright.types.container import RESTARTING, Container

if TYPE_CHECKING:
    from dockwright.engine.containers.base import ContainerBase

__all__ = ["CgroupStats", "StatsFrame", "TopResult", "parse_ps", "stats", "top"]

INTERVAL = 1.0  # seconds between samples, Docker's collector interval
PS = "ps"
_ASCII_SPACE = re.compile(r"[ \t\n\v\f\r]+")
_PS_PID_ASSIGN = re.compile(r"\s+([^\s]*)=\s*(PID[^\s]*)", re.ASCII)


def cgroups_path(svc: ContainerBase, c: Container) -> str:
    return f"/{svc.config.cgroup_name}/{c.id}"


# -- top


@dataclass(frozen=True)
class TopResult:
    titles: list[str]
    processes: list[list[str]]


def validate_ps_args(ps_args: str) -> None:
    """Docker refuses renaming a column to PID ("-o user=PID"): it would confuse the filter."""
    for key, value in _PS_PID_ASSIGN.findall(" " + ps_args):
        if key != "pid":
            raise InvalidParameter(f'specifying "{key}={value}" is not allowed')


def _fields(line: str) -> list[str]:
    return [f for f in _ASCII_SPACE.split(line) if f]


def parse_ps(output: str, pids: Collection[int]) -> TopResult:
    """Rows of `ps` output whose PID is one of `pids` (thread rows "-" follow their process);
    the last column takes the rest of the line, as a command line has spaces."""
    lines = output.split("\n")
    titles = _fields(lines[0])
    if "PID" not in titles:
        raise SystemError_("couldn't find PID field in ps output")
    at = titles.index("PID")
    rows: list[list[str]] = []
    keep = False
    for line in lines[1:]:
        fields = _fields(line)
        if len(fields) <= at:
            continue
        if fields[at] == "-":
            if keep:
                rows.append(_fit(fields, len(titles)))
            continue
        try:
            keep = int(fields[at]) in pids
        except ValueError:
            raise SystemError_(f"unexpected pid '{fields[at]}'") from None
        if keep:
            rows.append(_fit(fields, len(titles)))
    return TopResult(titles, rows)


def _fit(fields: list[str], width: int) -> list[str]:
    return fields[: width - 1] + [" ".join(fields[width - 1 :])]


async def _run_ps(args: list[str]) -> tuple[int, str, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            PS, *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise SystemError_(f"cannot run ps (install procps): {exc.strerror}") from None
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


async def top(svc: ContainerBase, ref: str, ps_args: str = "") -> TopResult:
    """`docker top`: Conflict when the container is not running."""
    ps_args = ps_args or "-ef"
    validate_ps_args(ps_args)
    c = svc.get(ref)
    if not c.running:
        raise Conflict(f"container {c.id} is not running")
    if c.state.status == RESTARTING:
        raise Conflict(f"Container {c.id} is restarting, wait until the container is running")
    pids = await asyncio.to_thread(cgroup_pids, cgroups_path(svc, c))
    args = [a for a in ps_args.split(" ") if a]
    code, out, err = await _run_ps([*args, "-q" + ",".join(map(str, pids))])
    if code != 0:  # some options (e.g. "f") cannot go with -q: filter the full list
        code, out, err = await _run_ps(args)
    if code != 0:
        raise SystemError_(err.strip().split("\n")[0] or f"ps exited with {code}")
    svc.publish(c, "top")
    return parse_ps(out, set(pids))


# -- stats


@dataclass(frozen=True)
class StatsFrame:
    """One stats record: this sample and the one before (None: not running / first)."""

    name: str
    id: str
    current: CgroupStats | None
    previous: CgroupStats | None
    machine_memory: int


def machine_memory() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


async def _sample(svc: ContainerBase, c: Container) -> CgroupStats | None:
    if not c.running:
        return None
    return await asyncio.to_thread(read_stats, cgroups_path(svc, c))


def _frame(c: Container, current: CgroupStats | None, previous: CgroupStats | None) -> StatsFrame:
    return StatsFrame("/" + c.name, c.id, current, previous, machine_memory())


async def stats(
    svc: ContainerBase, ref: str, *, stream: bool, one_shot: bool = False
) -> AsyncGenerator[StatsFrame, None]:
    """Docker's stats records: one (not streaming) or one per second until the container is
    removed (streaming; the caller stops early when its client leaves).

    Not streaming, a running container is sampled twice a second apart so the CPU delta is
    real, unless `one_shot` asks for a single sample without a previous one.
    """
    if stream and one_shot:
        raise InvalidParameter("cannot have stream=true and one-shot=true")
    c = svc.get(ref)
    if not stream:
        first = await _sample(svc, c)
        if first is None or one_shot:
            yield _frame(c, first, None)
            return
        await asyncio.sleep(INTERVAL)
        yield _frame(c, await _sample(svc, svc.get(c.id)), first)
        return
    previous: CgroupStats | None = None
    while True:
        current = await _sample(svc, c)
        yield _frame(c, current, previous)
        previous = current
        await asyncio.sleep(INTERVAL)
        try:
            c = svc.get(c.id)
        except NotFound:
            return
