"""Waits in the background for an enrollment's code to reach the OTP inbox and hands it over.

An enrollment started with ``code_source: "inbox"`` starts a wait each time a code is sent (phone step,
resend); a resend supersedes the wait for the previous code. What to do with the code (or with none,
once ``wait_s`` ran out) is the enrollment's business: it passes ``deliver``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bridge.inbox import OtpInbox

# Called with the code (None when none came in time), when the wait started (wall, monotonic).
Deliver = Callable[[str | None, datetime, float], Awaitable[None]]


class InboxAutoSubmit:
    def __init__(self, inbox: OtpInbox, wait_s: float) -> None:
        self._inbox = inbox
        self._wait_s = wait_s
        self._task: asyncio.Task[None] | None = None

    def wait(self, recipient: str, since: tuple[float, datetime], deliver: Deliver) -> None:
        """Starts waiting for a code to ``recipient`` that arrived after ``since`` (monotonic, wall)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self._wait(recipient, since, deliver))

    async def _wait(self, recipient: str, since: tuple[float, datetime], deliver: Deliver) -> None:
        started_at, t0 = datetime.now(UTC), time.monotonic()
        code = await self._inbox.wait_for_code(recipient, since[0], since[1], self._wait_s)
        await deliver(code, started_at, t0)

    def cancel(self) -> None:
        """Stops the wait, unless it is the caller (delivering a code can end the enrollment)."""
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
