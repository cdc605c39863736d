"""One enrollment: runs its steps through the state machine on an engine session and keeps its record.

Steps on one enrollment are serialised by a lock; each runs under the step timeout and ends in a stable
state the caller can read, whether the widget accepted, rejected or broke. The enrollment knows no
browser: it talks to an ``EngineSession`` (``bridge.engine``) and the ``WidgetDriver`` that opened.
Two verbs end it: ``finish`` (a final state, and why) and ``dispose`` (free what it holds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import structlog

from bridge import models as m
from bridge import state_machine
from bridge.access import OPEN_OWNER
from bridge.artifacts import Artifacts
from bridge.call_log import CallLog
from bridge.engine import EngineSession
from bridge.errors import (
    BridgeError,
    BrowserCrashedError,
    StepOutOfOrderError,
    WidgetTimeoutError,
    WidgetUnrecognizedError,
)
from bridge.events import EventLog
from bridge.inbox import Delivery
from bridge.inbox_autosubmit import InboxAutoSubmit
from bridge.metrics import Metrics
from bridge.outcomes import Outcome, OutcomeCode
from bridge.phone import PhoneNumber
from bridge.redact import Redactor
from bridge.screen_recording import ScreenRecording
from bridge.widgets.base import WidgetDriver, observe

log = logging.getLogger("bridge.enrollment")
S = m.EnrollmentState
C = OutcomeCode

_bound = structlog.contextvars.bound_contextvars


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Limits:
    """The timings one enrollment runs under (from the settings)."""

    step_timeout_s: float
    max_age_s: float
    save_screenshots: bool = False


class EnrollmentSession:
    def __init__(
        self,
        enrollment_id: str,
        engine: EngineSession,
        calls: CallLog,
        redactor: Redactor,
        limits: Limits,
        *,
        metrics: Metrics,
        artifacts: Artifacts,
        on_dispose: Callable[[EnrollmentSession], Awaitable[None]],
        code_source: m.CodeSource = "manual",
        autosubmit: InboxAutoSubmit | None = None,
        record_screens: bool = False,
        engine_reason: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        owner: str = OPEN_OWNER,
        user_id: str | None = None,
    ) -> None:
        self.id = enrollment_id
        # The fingerprint of the token that started it (``bridge.access``): only it (and admins) see it.
        self.owner = owner
        # The Auth0 user it enrolls, when known: inbox messages for another user never reach it.
        self.user_id = user_id
        self._engine = engine
        self._calls = calls
        self._redactor = redactor
        self._limits = limits
        self._metrics = metrics
        self._artifacts = artifacts
        self._on_dispose = on_dispose
        # Where the code comes from: the caller ("manual") or the OTP inbox, submitted by the bridge.
        self.code_source = code_source
        self._autosubmit = autosubmit if code_source == "inbox" else None
        self._recording = ScreenRecording(engine) if record_screens else None
        self._clock = clock
        self._events = EventLog()
        self.lock = asyncio.Lock()
        self._driver: WidgetDriver | None = None
        self.state = S.STARTING
        self.phone: PhoneNumber | None = None
        self.channel: m.Channel = "sms"
        self._recovery_code: str | None = None
        self._last_error: m.LastError | None = None
        self._code_attempts = 0
        self._steps: list[m.Step] = []
        self.created_at = self._updated_at = _now()
        self._expires_at = self.created_at + timedelta(seconds=limits.max_age_s)
        self.created_mono = self.last_activity = clock()
        self._final_screenshot: bytes | None = None
        self.closed = False
        # Why ``engine: auto`` chose this session's engine (shown on the enrollment).
        self._engine_reason = engine_reason
        # Told after every step and at the end (cluster mode writes the directory and a protocol state).
        self.on_change: Callable[[EnrollmentSession], Awaitable[None]] | None = None
        # Around every step (cluster mode: a protocol step runs only while this replica still owns it).
        self.step_guard: Callable[[EnrollmentSession], AbstractAsyncContextManager[None]] | None = None

    @property
    def engine(self) -> str:
        return self._engine.name

    @property
    def engine_session(self) -> EngineSession:
        return self._engine

    def restore(
        self,
        record: m.Enrollment,
        phone: PhoneNumber | None,
        driver: WidgetDriver,
        calls: list[m.CapturedCall] | None = None,
    ) -> None:
        """Goes on from ``record``, an enrollment another replica ran until now (cluster mode), with the
        ``driver`` that resumed its protocol state here and the ``calls`` captured there."""
        self._calls.restore(calls or [])
        self.state, self.channel, self.phone = record.state, record.channel, phone
        self.created_at, self._updated_at = record.created_at, record.updated_at
        self._expires_at = record.expires_at
        self._steps, self._last_error = list(record.steps), record.last_error
        self._code_attempts = record.code_attempts
        self._driver = driver
        if phone is not None:
            self._redactor.add_phone(phone.e164, phone.national)

    def resume_inbox_wait(self) -> None:
        """After ``restore``: an inbox enrollment awaiting its code goes on waiting for it here."""
        if self.phone is not None and self.state is S.AWAITING_CODE:
            self._expect_code(self.phone)
            self._after_send()

    async def _changed(self) -> None:
        if self.on_change is not None:
            await self.on_change(self)

    # --- public steps ---
    async def start(self, ticket_url: str) -> None:
        ticket = dict(parse_qsl(urlsplit(ticket_url).query)).get("ticket")
        self._redactor.add_secret(ticket)
        await self._step("start", lambda: self._open(ticket_url))

    async def submit_phone(self, phone: PhoneNumber, channel: m.Channel) -> None:
        self._redactor.add_phone(phone.e164, phone.national)

        async def run() -> Outcome:
            # Stored only once the state machine admitted the step: a refused request changes nothing.
            self.phone, self.channel = phone, channel
            self._expect_code(phone)
            return await self._driven().submit_phone(phone, channel)

        try:
            await self._step("phone", run)
        finally:
            self._after_send()

    async def submit_code(self, code: str) -> None:
        self._redactor.add_secret(code)

        async def run() -> Outcome:
            driver = self._driven()
            self._code_attempts += 1
            return await driver.submit_code(code)

        await self._step("code", run)

    async def resend(self) -> None:
        async def run() -> Outcome:
            if self.phone is not None:
                self._expect_code(self.phone)  # the earlier code's wait ends here, before the new send
            return await self._driven().resend()

        try:
            await self._step("resend", run)
        finally:
            self._after_send()

    def _driven(self) -> WidgetDriver:
        assert self._driver is not None  # every step after start needs a state only start reaches
        return self._driver

    # --- codes from the OTP inbox ---
    def _expect_code(self, phone: PhoneNumber) -> None:
        """In inbox mode, just before a code is sent: tells the inbox which code to bring here."""
        if self._autosubmit is not None:
            self._autosubmit.expect(phone.e164)

    def _after_send(self) -> None:
        """In inbox mode, once a code was sent, waits for it in the background and submits it."""
        if self._autosubmit is None:
            return
        if self.state is S.AWAITING_CODE and not self.closed:
            self._autosubmit.wait(self._code_from_inbox)
        else:
            self._autosubmit.drop()

    async def _code_from_inbox(self, delivery: Delivery, started_at: datetime, t0: float) -> None:
        if self.closed or self.state is not S.AWAITING_CODE:
            return
        code = delivery.code
        if delivery.ambiguous:
            # Several enrollments wait for this phone and the message names no user that tells them
            # apart: typing it here could be typing another enrollment's code.
            outcome = Outcome("rejected", C.INBOX_AMBIGUOUS)
        else:
            outcome = Outcome("ok") if code is not None else Outcome("rejected", C.INBOX_TIMEOUT)
        async with self.lock:
            await self._record("inbox", started_at, t0, outcome)
        if code is None:
            return
        try:
            await self.submit_code(code)
        except BridgeError:
            log.info("inbox code submission failed", extra={"enrollment_id": self.id})

    # --- reading ---
    async def screenshot(self) -> bytes:
        if self.closed:
            if self._final_screenshot is not None:
                return self._final_screenshot
            raise StepOutOfOrderError("the enrollment's page is closed", enrollment_id=self.id)
        async with self.lock:
            png = await self._engine.screenshot()
        if png is None:
            raise StepOutOfOrderError("this enrollment's engine shows no page", enrollment_id=self.id)
        return png

    def recorded_calls(self, seq: int) -> list[m.CapturedCall]:
        """Calls recorded after ``seq`` so far, without waiting for those still being read."""
        return self._calls.after(seq)

    async def calls_after(self, seq: int, limit: int | None = None) -> list[m.CapturedCall]:
        """Captured calls after ``seq``, once every finished call has been recorded."""
        await self._calls.drain()
        return self._calls.after(seq, limit)

    def screens(self) -> list[m.ScreenSnapshot]:
        return self._recording.screens() if self._recording else []

    def screen_png(self, index: int) -> bytes | None:
        return self._recording.png(index) if self._recording else None

    def follow_events(self, after: int = 0) -> AsyncIterator[m.Event | None]:
        return self._events.follow(after)

    def view(self) -> m.Enrollment:
        return m.Enrollment(
            id=self.id,
            state=self.state,
            flavour=self._driver.flavour if self._driver else None,
            phone_number=self.phone.masked if self.phone else None,
            channel=self.channel,
            code_source=self.code_source,
            engine=self._engine.name,
            engine_reason=self._engine_reason,
            recovery_code=self._recovery_code if self.state is S.COMPLETED else None,
            last_error=self._last_error,
            code_attempts=self._code_attempts,
            created_at=self.created_at,
            updated_at=self._updated_at,
            expires_at=self._expires_at,
            steps=list(self._steps),
            calls=self._calls.total,
        )

    # --- running a step ---
    async def _step(self, name: m.StepName, run: Callable[[], Awaitable[Outcome]]) -> None:
        with _bound(enrollment_id=self.id, step=name):  # every log line of the step carries both
            async with self.lock, self._guarded():
                try:
                    await self._locked_step(name, run)
                finally:
                    await self._changed()

    def _guarded(self) -> AbstractAsyncContextManager[None]:
        return self.step_guard(self) if self.step_guard is not None else contextlib.nullcontext()

    async def _locked_step(self, name: m.StepName, run: Callable[[], Awaitable[Outcome]]) -> None:
        state_machine.require(name, self.state, self.id)
        self.last_activity = self._clock()
        started_at, t0 = _now(), time.monotonic()
        try:
            async with asyncio.timeout(self._limits.step_timeout_s + 5):
                with self._engine.translate_errors(f"running the {name} step"):
                    outcome = await run()
                    if self._driver is not None and self._recording is not None:
                        await observe(self._driver)
        except TimeoutError as exc:
            outcome = Outcome.error(C.WIDGET_TIMEOUT, None)
            log.debug("step timed out", exc_info=exc)
        except BridgeError as exc:
            if self.closed and self._last_error and self._last_error.code == C.BROWSER_CRASHED:
                raise BrowserCrashedError(C.BROWSER_CRASHED.message, enrollment_id=self.id) from exc
            if self.closed:
                # Cancelled or expired while the step ran: the close, not the engine, ended it.
                raise StepOutOfOrderError(
                    f"the enrollment was {self.state.value} during the {name} step",
                    enrollment_id=self.id,
                ) from exc
            code = C.parse(exc.code) or C.WIDGET_ERROR
            await self._record(name, started_at, t0, Outcome.error(code, None))
            if state_machine.ends_after_error(name, exc.code):
                await self._fail()  # no widget to go on with
            exc.enrollment_id = self.id
            raise
        await self._apply(name, started_at, t0, outcome)

    async def _open(self, ticket_url: str) -> Outcome:
        opened = time.monotonic()
        driver = await self._engine.open(ticket_url, self._limits.step_timeout_s)
        if driver is None:
            return Outcome.error(C.WIDGET_UNRECOGNIZED, None)
        # Loading the ticket page is waiting on the widget too, though no driver existed yet to time it.
        driver.clock.waited_s += time.monotonic() - opened
        self._driver = driver
        if self._recording is not None:
            driver.observer = self._recording.observe
        await self._emit_state(flavour=driver.flavour.value)
        return await driver.ready()

    async def _apply(self, name: m.StepName, started_at: datetime, t0: float, out: Outcome) -> None:
        await self._record(name, started_at, t0, out)
        if out.kind == "ok" and name == "code":
            self._recovery_code = out.recovery_code
            self._redactor.add_secret(out.recovery_code)
        if out.error_code is C.WIDGET_UNRECOGNIZED:
            path = await self._save_unrecognized()
        state = state_machine.next_state(name, out)
        if state is S.FAILED:
            await self._fail()
        elif state is S.COMPLETED:
            await self.finish(S.COMPLETED)
        elif state is not None:
            await self._set_state(state)
        if out.error_code is C.WIDGET_TIMEOUT:
            raise WidgetTimeoutError(C.WIDGET_TIMEOUT.message, enrollment_id=self.id)
        if out.error_code is C.WIDGET_UNRECOGNIZED:
            where = (
                f" (screenshot saved as {path.name})"
                if path
                else f" (see GET /v1/enrollments/{self.id}/screenshot)"
                if self._final_screenshot is not None
                else ""  # an engine without pictures (the protocol engine keeps the page's HTML instead)
            )
            raise WidgetUnrecognizedError(C.WIDGET_UNRECOGNIZED.message + where, enrollment_id=self.id)

    async def _record(self, name: m.StepName, started_at: datetime, t0: float, out: Outcome) -> None:
        duration_ms = (time.monotonic() - t0) * 1000
        widget_ms = self._driver.clock.take_ms() if self._driver else duration_ms
        message = self._redactor.text(out.widget_message) if out.widget_message else None
        step = m.Step(
            name=name,
            outcome={"ok": "ok", "rejected": "rejected", "terminal": "failed"}[out.kind]
            if out.error_code is not C.WIDGET_TIMEOUT
            else "timeout",
            started_at=started_at,
            duration_ms=round(duration_ms, 1),
            widget_ms=round(min(widget_ms, duration_ms), 1),
            widget_message=message,
            error_code=out.error_code,
        )
        self._steps.append(step)
        self._metrics.steps.labels(name, step.outcome).inc()
        self._metrics.step_seconds.labels(name).observe(step.duration_ms / 1000)
        self._metrics.widget_seconds.labels(name).observe(step.widget_ms / 1000)
        if out.error_code:
            self._last_error = m.LastError(
                code=out.error_code, message=out.error_code.message, widget_message=message
            )
        else:
            self._last_error = None
        self._updated_at = _now()
        self.last_activity = self._clock()
        await self._events.emit("step", step.model_dump(mode="json"))

    async def _set_state(self, state: m.EnrollmentState) -> None:
        self.state = state
        if state.terminal:
            self._metrics.enrollments_finished.labels(state.value).inc()
        self._updated_at = _now()
        await self._emit_state()

    async def _emit_state(self, **extra: str) -> None:
        data: dict[str, object] = {"state": self.state.value, **extra}
        if self._last_error:
            data["last_error"] = self._last_error.model_dump()
        await self._events.emit("state", data)

    async def _fail(self) -> None:
        """A step ended the enrollment: keep a picture of the page as it failed, then finish."""
        if not self.closed:
            try:
                self._final_screenshot = await self._engine.screenshot() or None
            except BridgeError:
                self._final_screenshot = None
        await self.finish(S.FAILED)

    async def _save_unrecognized(self) -> Path | None:
        if not self._limits.save_screenshots:
            return None
        try:
            png = await self._engine.screenshot()
        except BridgeError:
            return None
        return self._artifacts.write("unrecognized.png", png) if png else None

    # --- lifecycle ---
    async def finish(self, state: m.EnrollmentState, reason: OutcomeCode | None = None) -> None:
        """Ends the enrollment in ``state`` (``reason`` becomes its last error) and disposes of it.

        An enrollment that already ended keeps its state and is only disposed of.
        """
        if self.state.terminal:
            await self.dispose()
            return
        if reason is not None:
            self._last_error = m.LastError(code=reason, message=reason.message)
        # Resources first: once a reader sees the final state, its session slot is already free.
        await self._free()
        await self._set_state(state)
        await self._changed()
        await self._events.close()

    async def dispose(self) -> None:
        """Frees the engine session and ends the event stream; the record stays readable."""
        await self._free()
        await self._events.close()

    def delete_artifacts(self) -> None:
        self._artifacts.delete()

    async def _free(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._autosubmit is not None:
            self._autosubmit.cancel()
        self._calls.forget_raw()
        await self._engine.close()
        await self._on_dispose(self)
