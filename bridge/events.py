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
        self._changed = asyncio.Condition()
        self.closed = False

    async def emit(self, type_: EventType, data: dict[str, Any]) -> None:
        self._seq += 1
        self._events.append(Event(seq=self._seq, type=type_, at=datetime.now(UTC), data=data))
        if len(self._events) > self._max:
            del self._events[0]
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        self.closed = True
        async with self._changed:
            self._changed.notify_all()

    def after(self, seq: int) -> list[Event]:
        return [e for e in self._events if e.seq > seq]

    async def follow(self, after: int = 0, heartbeat_s: float = 15.0) -> AsyncIterator[Event | None]:
        """Yields events after ``after`` as they come; yields None as a heartbeat; ends when closed."""
        cursor = after
        while True:
            pending = self.after(cursor)
            for event in pending:
                cursor = event.seq
                yield event
            if self.closed and not self.after(cursor):
                return
            async with self._changed:
                # Checked under the lock: an emit between the read above and this wait is not missed.
                if self.after(cursor) or self.closed:
                    continue
                try:
                    await asyncio.wait_for(self._changed.wait(), heartbeat_s)
                    timed_out = False
                except TimeoutError:
                    timed_out = True
            if timed_out:
                yield None
