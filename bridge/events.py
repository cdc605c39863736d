"""An enrollment's live event log: appended by the enrollment, streamed to any number of readers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

from bridge.models import Event

EventType = Literal["state", "step"]


class EventLog:
    def __init__(self, max_events: int = 500) -> None:
        self._events: list[Event] = []
        self._max = max_events
        self._seq = 0
        # Set (and replaced) on every change: readers wait on it without a lock, so a reader cancelled
        # mid-wait (a client gone, a server stopping) leaves nothing half-held for the writer to trip on.
        self._changed = asyncio.Event()
        self.closed = False

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def emit(self, type_: EventType, data: dict[str, Any]) -> None:
        self._seq += 1
        self._events.append(Event(seq=self._seq, type=type_, at=datetime.now(UTC), data=data))
        if len(self._events) > self._max:
            del self._events[0]
        self._notify()

    async def close(self) -> None:
        self.closed = True
        self._notify()

    def after(self, seq: int) -> list[Event]:
        return [e for e in self._events if e.seq > seq]

    async def follow(self, after: int = 0, heartbeat_s: float = 15.0) -> AsyncIterator[Event | None]:
        """Yields events after ``after`` as they come; yields None as a heartbeat; ends when closed."""
        cursor = after
        while True:
            # Taken before the read below, with no await between: a change after the read sets it.
            changed = self._changed
            pending = self.after(cursor)
            for event in pending:
                cursor = event.seq
                yield event
            if pending:
                continue
            if self.closed:
                return
            try:
                # Not wait_for: on 3.11 it can swallow a cancellation that lands as the wait completes.
                async with asyncio.timeout(heartbeat_s):
                    await changed.wait()
            except TimeoutError:
                yield None
