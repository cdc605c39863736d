"""All enrollments of this process: create, find, finish; the session limit and wait queue; the reaper.

Admission counts enrollments, not browser contexts: whatever engine an enrollment runs on, it holds one
of ``max_enrollments`` slots from ``create`` until it is disposed of. Time comes from an injectable
monotonic ``clock`` so expiry can be tested without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager

from bridge import models as m
from bridge.access import OPEN_OWNER, Caller
from bridge.artifacts import Artifacts
from bridge.call_log import CallLog
from bridge.engine import Engine, EngineName, SessionOptions
from bridge.enrollment import EnrollmentSession, Limits
from bridge.errors import EnrollmentNotFoundError, InvalidRequestError, SessionLimitError
from bridge.inbox import OtpInbox
from bridge.inbox_autosubmit import InboxAutoSubmit
from bridge.metrics import Metrics
from bridge.outcomes import OutcomeCode
from bridge.redact import Redactor
from bridge.settings import BridgeSettings

log = logging.getLogger("bridge.registry")


def new_enrollment_id() -> str:
    return f"enr_{uuid.uuid4().hex[:20]}"


class Registry:
    def __init__(
        self,
        settings: BridgeSettings,
        engines: Iterable[Engine],
        *,
        inbox: OtpInbox,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._engines: dict[str, Engine] = {engine.name: engine for engine in engines}
        self.inbox = inbox
        self.metrics = metrics
        self._clock = clock
        self._sessions: dict[str, EnrollmentSession] = {}
        self._open = 0  # enrollments holding a slot (a browser context, or any other engine session)
        self._waiting = 0
        self._slot_freed = asyncio.Condition()
        self._reaper: asyncio.Task[None] | None = None
        self.rejections = 0
        # Handed to every enrollment (``EnrollmentSession.on_change``, ``step_guard``); cluster mode
        # sets them.
        self.on_change: Callable[[EnrollmentSession], Awaitable[None]] | None = None
        self.step_guard: Callable[[EnrollmentSession], AbstractAsyncContextManager[None]] | None = None
        self.metrics.session_limit.set(settings.max_enrollments)

    # --- admission ---
    @property
    def in_use(self) -> int:
        return self._open

    @property
    def waiting(self) -> int:
        return self._waiting

    def open_of(self, owner: str) -> int:
        """Enrollments of ``owner`` holding a slot."""
        return sum(1 for s in self._sessions.values() if s.owner == owner and not s.closed)

    async def _admit(self, owner: str) -> None:
        """Takes a slot, waiting in a bounded queue for up to ``queue_timeout_s``; else 429. One token
        never holds more than its share (``max_enrollments_per_token``), queue or not."""
        share = self.settings.max_enrollments_per_token
        if share is not None and self.open_of(owner) >= share:
            self.rejections += 1
            self.metrics.rejections.labels("session_limit").inc()
            raise SessionLimitError(
                f"this token already has {share} open enrollments",
                retry_after=max(1, math.ceil(min(self.settings.idle_ttl_s, 30))),
            )
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
        self,
        code_source: m.CodeSource = "manual",
        record_screens: bool = False,
        engine: EngineName = "browser",
        engine_reason: str | None = None,
        options: SessionOptions | None = None,
        enrollment_id: str | None = None,
        *,
        owner: str = OPEN_OWNER,
        user_id: str | None = None,
        reserved_id: str | None = None,
    ) -> EnrollmentSession:
        """``owner``: the fingerprint of the token that starts it (``bridge.access``); ``user_id``: the
        Auth0 user it enrolls, when known (binds OTP inbox messages to it); ``reserved_id``: the id cluster
        mode reserved for a new enrollment when it admitted the start (``enrollment_id`` is for one
        another replica started)."""
        maker = self._engines.get(engine)
        if maker is None:
            raise InvalidRequestError(f"the {engine} engine is not available in this bridge")
        await self._admit(owner)
        settings = self.settings
        adopted = enrollment_id is not None  # cluster mode: one another replica started
        enrollment_id = enrollment_id or reserved_id or new_enrollment_id()
        redactor = Redactor(enabled=not settings.capture_unredacted)
        captured = self.metrics.captured_calls
        calls = CallLog(
            redactor,
            settings.capture_max_calls,
            settings.capture_max_body_bytes,
            on_record=lambda kind: captured.labels(kind).inc(),
        )
        artifacts = Artifacts(settings.artifacts_dir, enrollment_id)
        try:
            engine_session = await maker.new_session(calls, redactor, artifacts, options or SessionOptions())
        except BaseException:
            await self._release_slot()
            raise
        session = EnrollmentSession(
            enrollment_id,
            engine_session,
            calls,
            redactor,
            Limits(settings.step_timeout_s, settings.max_age_s, settings.save_screenshots),
            metrics=self.metrics,
            artifacts=artifacts,
            on_dispose=self._release_slot,
            code_source=code_source,
            autosubmit=InboxAutoSubmit(self.inbox, settings.inbox_wait_s, user_id),
            record_screens=record_screens,
            engine_reason=engine_reason,
            clock=self._clock,
            owner=owner,
            user_id=user_id,
        )
        self.metrics.enrollments_started.inc()
        self._sessions[session.id] = session
        session.on_change = self.on_change
        session.step_guard = self.step_guard
        if not adopted:
            await session._changed()
        return session

    def get(self, enrollment_id: str, caller: Caller | None = None) -> EnrollmentSession:
        """The enrollment ``enrollment_id`` as ``caller`` may see it: another token's enrollment is
        not found, exactly like one that does not exist (no caller: the process itself)."""
        session = self._sessions.get(enrollment_id)
        if session is None or (caller is not None and not caller.may_see(session.owner)):
            raise EnrollmentNotFoundError("no enrollment with this id", enrollment_id=enrollment_id)
        return session

    def all(self, caller: Caller | None = None) -> list[EnrollmentSession]:
        mine = [s for s in self._sessions.values() if caller is None or caller.may_see(s.owner)]
        return sorted(mine, key=lambda s: s.created_at)

    async def cancel(self, enrollment_id: str, caller: Caller | None = None) -> None:
        await self.get(enrollment_id, caller).finish(m.EnrollmentState.CANCELLED)

    async def fail_open(self, engine: EngineName, reason: OutcomeCode) -> None:
        """Fails every open enrollment on ``engine`` (its engine went away under it)."""
        for session in list(self._sessions.values()):
            if not session.closed and session.engine == engine:
                await session.finish(m.EnrollmentState.FAILED, reason)

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

    async def reap(self) -> int:
        """Expires idle or too-old enrollments and forgets finished ones past retention."""
        now = self._clock()
        expired = 0
        for session in list(self._sessions.values()):
            age = now - session.created_mono
            idle = now - session.last_activity
            if not session.state.terminal and (
                idle > self.settings.idle_ttl_s or age > self.settings.max_age_s
            ):
                if session.lock.locked():
                    continue  # a step in progress is bounded by the step timeout
                await session.finish(m.EnrollmentState.EXPIRED)
                expired += 1
            elif session.state.terminal and idle > self.settings.retention_s:
                await session.dispose()
                session.delete_artifacts()
                self._sessions.pop(session.id, None)
        return expired

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for session in list(self._sessions.values()):
            await session.finish(m.EnrollmentState.CANCELLED)
            session.delete_artifacts()
