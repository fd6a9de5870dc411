"""Run a build's stages as a DAG of asyncio tasks, streaming their messages in stage order.

Each stage is a task that starts once the stages it needs have finished. Its messages go to one
queue tagged with the stage; the stream shows the stage first in order live and buffers the
others, flushing each when its turn comes, so the legacy stream reads as if the stages ran one
after the other. A failing stage ends the stream at once (after its buffered messages) and the
other tasks are cancelled; every task is awaited before the stream ends, whatever happens, so
the steps' own cleanup (removing their containers) is finished when the build returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]
Emit = Callable[[Message], None]
StageJob = Callable[[int, Emit], Awaitable[None]]


@dataclass(frozen=True)
class _End:
    error: BaseException | None = None


async def run_stages(order: Sequence[int], deps: Mapping[int, frozenset[int]],
                     job: StageJob) -> AsyncIterator[Message]:  # fmt: skip
    """Run `job(stage, emit)` for every stage of `order` once its `deps` are done; yields the
    emitted messages in `order`. Re-raises the first failure."""
    queue: asyncio.Queue[tuple[int, Message | _End]] = asyncio.Queue()
    done = {i: asyncio.Event() for i in order}

    async def one(i: int) -> None:
        try:
            for d in deps.get(i, frozenset()):
                await done[d].wait()
            await job(i, lambda m: queue.put_nowait((i, m)))
        except Exception as exc:  # reported through the queue; the stream re-raises it
            queue.put_nowait((i, _End(exc)))
            return
        done[i].set()
        queue.put_nowait((i, _End()))

    tasks = [asyncio.create_task(one(i), name=f"build-stage-{i}") for i in order]
    try:
        async for msg in _ordered(order, queue):
            yield msg
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _ordered(order: Sequence[int],
                   queue: asyncio.Queue[tuple[int, Message | _End]]) -> AsyncIterator[Message]:  # fmt: skip
    buffers: dict[int, list[Message]] = {i: [] for i in order}
    finished: set[int] = set()
    pos = 0
    while pos < len(order):
        i, item = await queue.get()
        if isinstance(item, _End) and item.error is not None:
            for msg in buffers[i]:
                yield msg
            raise item.error
        if isinstance(item, _End):
            finished.add(i)
        else:
            buffers[i].append(item)
        while pos < len(order):
            current = order[pos]
            for msg in buffers[current]:
                yield msg
            buffers[current].clear()
            if current not in finished:
                break
            pos += 1
