"""The event log that feeds ``GET /v1/enrollments/{id}/events``: readers see every event in order, end when
the log closes, and a reader cancelled mid-wait (a client gone, a server stopping) leaves the log usable."""

from __future__ import annotations

import asyncio

from bridge.events import EventLog


async def _read_all(log: EventLog, after: int = 0) -> list[int | None]:
    return [event.seq if event else None async for event in log.follow(after, heartbeat_s=0.05)]


def _cancel_until_done(task: asyncio.Task[list[int | None]]) -> None:
    loop = asyncio.get_running_loop()

    def again() -> None:
        if not task.done():
            task.cancel()
            loop.call_soon(again)

    again()


def test_a_reader_gets_every_event_in_order_and_ends_when_the_log_closes() -> None:
    async def scenario() -> list[int | None]:
        log = EventLog()
        await log.emit("state", {"state": "created"})
        reader = asyncio.create_task(_read_all(log))
        for n in range(3):
            await asyncio.sleep(0)
            await log.emit("step", {"n": n})
        await log.close()
        return await asyncio.wait_for(reader, 5)

    assert asyncio.run(scenario()) == [1, 2, 3, 4]


def test_a_quiet_log_sends_heartbeats_and_a_reader_resumes_after_its_cursor() -> None:
    async def scenario() -> list[int | None]:
        log = EventLog()
        for _ in range(3):
            await log.emit("state", {})
        reader = asyncio.create_task(_read_all(log, after=2))
        await asyncio.sleep(0.2)
        await log.close()
        return await asyncio.wait_for(reader, 5)

    seen = asyncio.run(scenario())
    assert seen[0] == 3
    assert None in seen[1:], "a heartbeat while nothing happened"


def test_readers_cancelled_again_and_again_leave_the_log_working() -> None:
    """A server's cancel scope cancels a streaming task again on every turn until it ends. The log holds
    no lock such a reader could leave taken (that once stopped a server from shutting down: the next
    ``emit`` waited forever), so writers and new readers carry on."""

    async def scenario() -> tuple[int, list[int | None]]:
        log = EventLog()
        readers = [asyncio.create_task(_read_all(log)) for _ in range(4)]
        await asyncio.sleep(0.01)
        for turn in range(6):
            await log.emit("step", {"turn": turn})
            for reader in readers:
                _cancel_until_done(reader)
            await asyncio.sleep(0)
        ended = await asyncio.wait_for(asyncio.gather(*readers, return_exceptions=True), 5)
        survivor = asyncio.create_task(_read_all(log))
        await asyncio.wait_for(log.emit("state", {}), 5)
        await asyncio.wait_for(log.close(), 5)
        cancelled = sum(isinstance(result, asyncio.CancelledError) for result in ended)
        return cancelled, await asyncio.wait_for(survivor, 5)

    cancelled, survivor_saw = asyncio.run(scenario())
    assert cancelled == 4
    assert survivor_saw == [1, 2, 3, 4, 5, 6, 7]
