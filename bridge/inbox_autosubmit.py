"""Waits in the background for an enrollment's code to reach the OTP inbox and hands it over.

An enrollment started with ``code_source: "inbox"`` declares each send before it happens (``expect``: the
phone step, a resend), which also ends the wait for any earlier code; once the widget says the code went
out, ``wait`` waits for it in the background. What to do with the result (a code, none once ``wait_s``
ran out, or an ambiguous one) is the enrollment's business: it passes ``deliver``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bridge.inbox import Delivery, Expectation, OtpInbox

# Called with what arrived, and when the wait started (wall, monotonic).
Deliver = Callable[[Delivery, datetime, float], Awaitable[None]]


class InboxAutoSubmit:
    def __init__(self, inbox: OtpInbox, wait_s: float, user_id: str | None = None) -> None:
        self._inbox = inbox
        self._wait_s = wait_s
        self._user_id = user_id
        self._expectation: Expectation | None = None
        self._task: asyncio.Task[None] | None = None

    def expect(self, recipient: str) -> None:
        """Before a code is sent to ``recipient``: forgets any earlier wait and registers for this one."""
        self.cancel()
        self._expectation = self._inbox.expect(recipient, self._user_id)

    def wait(self, deliver: Deliver) -> None:
        """After the code went out: waits for it in the background."""
        expectation, self._expectation = self._expectation, None
        if expectation is not None:
            self._task = asyncio.get_running_loop().create_task(self._wait(expectation, deliver))

    def drop(self) -> None:
        """The send did not happen (the step was refused): nothing is expected after all."""
        if self._expectation is not None:
            self._inbox.forget(self._expectation)
            self._expectation = None

    async def _wait(self, expectation: Expectation, deliver: Deliver) -> None:
        started_at, t0 = datetime.now(UTC), time.monotonic()
        delivery = await self._inbox.wait(expectation, self._wait_s)
        await deliver(delivery, started_at, t0)

    def cancel(self) -> None:
        """Stops the wait, unless it is the caller (delivering a code can end the enrollment)."""
        self.drop()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
