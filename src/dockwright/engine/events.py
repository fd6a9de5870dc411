"""The event bus behind `/events`: services publish, subscribers get a bounded queue each.

Recent events are kept in a ring so `since` can replay them (Docker keeps 256 in memory).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

RING_SIZE = 1024
QUEUE_SIZE = 4096


@dataclass(frozen=True)
class Event:
    kind: str  # container | image | network | volume | daemon
    action: str
    actor_id: str
    attributes: dict[str, str] = field(default_factory=dict)
    time_nano: int = 0
    scope: str = "local"


class EventBus:
    def __init__(self) -> None:
        self._ring: deque[Event] = deque(maxlen=RING_SIZE)
        self._subscribers: set[asyncio.Queue[Event]] = set()

    def publish(self, kind: str, action: str, actor_id: str, attributes: dict[str, str]) -> None:
        event = Event(kind, action, actor_id, dict(attributes), time.time_ns())
        self._ring.append(event)
        for queue in self._subscribers:
            if queue.full():
                continue  # a stalled subscriber loses events rather than stalling the daemon
            queue.put_nowait(event)

    def history(self, since_nano: int, until_nano: int | None = None) -> list[Event]:
        return [
            e
            for e in self._ring
            if e.time_nano >= since_nano and (until_nano is None or e.time_nano <= until_nano)
        ]

    def open_subscription(self) -> asyncio.Queue[Event]:
        """A queue that starts receiving now (call before reading history to miss nothing)."""
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def close_subscription(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers.discard(queue)
