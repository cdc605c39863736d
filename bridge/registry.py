"""All enrollments of this process: create, find, close; the session limit and wait queue; the reaper."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time

from bridge import models as m
from bridge.browser import BrowserManager, start_trace, translate_playwright_errors
from bridge.enrollment import EnrollmentSession
from bridge.errors import EnrollmentNotFoundError, SessionLimitError
from bridge.inbox import OtpInbox
from bridge.metrics import Metrics
from bridge.outcomes import OutcomeCode
from bridge.settings import BridgeSettings
from bridge.tickets import TicketIssuer
from bridge.urls import HostPolicy

log = logging.getLogger("bridge.registry")


class Registry:
    def __init__(self, settings: BridgeSettings, browser: BrowserManager) -> None:
        self.settings = settings
        self.browser = browser
        self._sessions: dict[str, EnrollmentSession] = {}
        self._open = 0  # enrollments holding a browser context (the limited resource)
        self._waiting = 0
        self._slot_freed = asyncio.Condition()
        self._reaper: asyncio.Task[None] | None = None
        self.rejections = 0
        self.metrics = Metrics()
        self.metrics.session_limit.set(settings.max_enrollments)
        secret = settings.otp_inbox_secret.get_secret_value() if settings.otp_inbox_secret else None
        self.inbox = OtpInbox(secret, settings.otp_inbox_max_age_s)
        self.tickets = TicketIssuer.from_settings(settings)
        # Hosts the browser may reach: the ticket hosts plus the widget's asset hosts (https only).
        self.browser_policy = HostPolicy.of([*settings.allowed_hosts, *settings.browser_extra_hosts])
        browser.on_crash.append(self._fail_all_open)

    # --- admission ---
    @property
    def in_use(self) -> int:
        return self._open

    @property
    def waiting(self) -> int:
        return self._waiting

    async def _admit(self) -> None:
        """Takes a slot, waiting in a bounded queue for up to ``queue_timeout_s``; else 429."""
        if self._open < self.settings.max_enrollments:
            self._take_slot()
            return
        timeout = self.settings.queue_timeout_s
        if timeout <= 0 or self._waiting >= self.settings.max_queue:
            self._reject()
        self._waiting += 1
        self.metrics.queue_waiting.set(self._waiting)
        try:
            async with self._slot_freed:
                await asyncio.wait_for(
                    self._slot_freed.wait_for(lambda: self._open < self.settings.max_enrollments),
                    timeout,
                )
                self._take_slot()
        except TimeoutError:
            self._reject()
        finally:
            self._waiting -= 1
            self.metrics.queue_waiting.set(self._waiting)

    def _take_slot(self) -> None:
        self._open += 1
        self.metrics.sessions_in_use.set(self._open)

    def _reject(self) -> None:
        self.rejections += 1
        self.metrics.rejections.labels("session_limit").inc()
        retry = max(1, math.ceil(min(self.settings.idle_ttl_s, 30)))
        raise SessionLimitError(
            f"all {self.settings.max_enrollments} enrollment sessions are in use",
            retry_after=retry,
        )

    async def _release_slot(self, _: EnrollmentSession | None = None) -> None:
        self._open -= 1
        self.metrics.sessions_in_use.set(self._open)
        async with self._slot_freed:
            self._slot_freed.notify()

    # --- lifecycle ---
    async def create(
        self, code_source: m.CodeSource = "manual", record_screens: bool = False
    ) -> EnrollmentSession:
        await self._admit()
        try:
            context = await self.browser.new_context(self.browser_policy.proxy_bypass())
            with translate_playwright_errors("opening a page"):
                context.set_default_timeout(self.settings.step_timeout_s * 1000)
                page = await context.new_page()
            if self.settings.trace:
                await start_trace(context)
        except BaseException:
            await self._release_slot()
            raise
        session = EnrollmentSession(self.settings, context, page)
        session.on_close = self._release_slot
        session.metrics = self.metrics
        calls = self.metrics.captured_calls
        session.recorder.on_record = lambda kind: calls.labels(kind).inc()
        self.metrics.enrollments_started.inc()
        session.code_source = code_source
        session.record_screens = record_screens
        session.inbox = self.inbox
        self._sessions[session.id] = session
        return session

    def get(self, enrollment_id: str) -> EnrollmentSession:
        session = self._sessions.get(enrollment_id)
        if session is None:
            raise EnrollmentNotFoundError("no enrollment with this id", enrollment_id=enrollment_id)
        return session

    def all(self) -> list[EnrollmentSession]:
        return sorted(self._sessions.values(), key=lambda s: s.created_at)

    async def cancel(self, enrollment_id: str) -> None:
        session = self.get(enrollment_id)
        await session.close(m.EnrollmentState.CANCELLED)

    async def _fail_all_open(self) -> None:
        self.metrics.browser_restarts.inc()
        for session in list(self._sessions.values()):
            if not session.closed:
                await session.close(m.EnrollmentState.FAILED, OutcomeCode.BROWSER_CRASHED)
        with contextlib.suppress(Exception):
            await self.browser.start()

    # --- reaper ---
    def start_reaper(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reap_interval_s)
            try:
                await self.reap()
            except Exception:  # the reaper must outlive any one bad session
                log.exception("reaper pass failed")

    async def reap(self, now: float | None = None) -> int:
        """Expires idle or too-old enrollments and forgets finished ones past retention."""
        now = time.monotonic() if now is None else now
        expired = 0
        for session in list(self._sessions.values()):
            age = now - session.created_mono
            idle = now - session.last_activity
            if not session.state.terminal and (
                idle > self.settings.idle_ttl_s or age > self.settings.max_age_s
            ):
                if session.lock.locked():
                    continue  # a step in progress is bounded by the step timeout
                await session.close(m.EnrollmentState.EXPIRED)
                expired += 1
            elif session.state.terminal and idle > self.settings.retention_s:
                await session.release()
                session.delete_artifacts()
                self._sessions.pop(session.id, None)
        return expired

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for session in list(self._sessions.values()):
            await session.close(m.EnrollmentState.CANCELLED)
            session.delete_artifacts()
