"""The relay between a blocking transfer thread and async consumers: results, errors, cancel."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from dockwright.distribution.relay import Outcome, relay

pytestmark = pytest.mark.unit


def test_messages_then_result() -> None:
    def transfer(report, cancel: threading.Event) -> str:
        for i in range(3):
            report({"n": i})
        return "done"

    async def main() -> tuple[list[dict], object]:
        outcome = Outcome()
        seen = [m async for m in relay(transfer, outcome)]
        return seen, outcome.value

    assert asyncio.run(main()) == ([{"n": 0}, {"n": 1}, {"n": 2}], "done")


def test_error_is_raised_after_the_messages() -> None:
    def transfer(report, cancel: threading.Event) -> None:
        report({"n": 0})
        raise ValueError("boom")

    async def main() -> list[dict]:
        seen: list[dict] = []
        with pytest.raises(ValueError, match="boom"):
            async for m in relay(transfer, Outcome()):
                seen.append(m)
        return seen

    assert asyncio.run(main()) == [{"n": 0}]


def test_consumer_leaving_cancels_and_waits_for_the_thread() -> None:
    state = {"stopped": False}

    def transfer(report, cancel: threading.Event) -> None:
        while not cancel.wait(0.01):
            report({"tick": time.monotonic()})
        time.sleep(0.05)  # cleanup takes a while: the relay must wait for it
        state["stopped"] = True

    async def main() -> None:
        gen = relay(transfer, Outcome())
        await anext(gen)
        await gen.aclose()

    asyncio.run(main())
    assert state["stopped"]
