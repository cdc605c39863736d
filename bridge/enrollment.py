"""One enrollment: its browser context and page, call recorder, widget driver and state machine.

Steps on one enrollment are serialised by a lock; each runs under the step timeout and ends in a stable
state the caller can read, whether the widget accepted, rejected or broke.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import structlog
from playwright.async_api import BrowserContext, Page

from bridge import models as m
from bridge.artifacts import delete_all, private_path, restrict, write_private
from bridge.browser import stop_trace, translate_playwright_errors
from bridge.capture import CallRecorder
from bridge.errors import (
    BridgeError,
    BrowserCrashedError,
    EnrollmentExpiredError,
    StepOutOfOrderError,
    WidgetTimeoutError,
    WidgetUnrecognizedError,
)
from bridge.events import EventLog
from bridge.inbox import OtpInbox
from bridge.metrics import Metrics
from bridge.outcomes import OutcomeCode
from bridge.phone import PhoneNumber
from bridge.redact import Redactor
from bridge.settings import BridgeSettings
from bridge.widgets.base import Outcome, WidgetDriver, observe
from bridge.widgets.detect import open_widget
from bridge.widgets.snapshot import read_screen, screenshot_png

log = logging.getLogger("bridge.enrollment")
S = m.EnrollmentState


_bound = structlog.contextvars.bound_contextvars


def _now() -> datetime:
    return datetime.now(UTC)


class EnrollmentSession:
    def __init__(self, settings: BridgeSettings, context: BrowserContext, page: Page) -> None:
        self.id = f"enr_{uuid.uuid4().hex[:20]}"
        self.settings = settings
        self.context = context
        self.page = page
        self.redactor = Redactor(enabled=not settings.capture_unredacted)
        self.recorder = CallRecorder(
            self.redactor, settings.capture_max_calls, settings.capture_max_body_bytes
        )
        self.recorder.attach(context)
        self.events = EventLog()
        self.lock = asyncio.Lock()
        self.driver: WidgetDriver | None = None
        self.state = S.STARTING
        self.phone: PhoneNumber | None = None
        self.channel: m.Channel = "sms"
        self.recovery_code: str | None = None
        self.last_error: m.LastError | None = None
        self.code_attempts = 0
        self.steps: list[m.Step] = []
        self.created_at = self.updated_at = _now()
        self.expires_at = self.created_at + timedelta(seconds=settings.max_age_s)
        self.created_mono = self.last_activity = time.monotonic()
        self.final_screenshot: bytes | None = None
        self.artifacts: list[Path] = []  # files on disk, deleted with the record
        self.closed = False
        # Where the code comes from: the caller ("manual") or the OTP inbox, submitted by the bridge.
        self.code_source: m.CodeSource = "manual"
        self.inbox: OtpInbox | None = None
        self._auto_code: asyncio.Task[None] | None = None
        # Contract recording (guardian-bridge check): every screen reached, with a screenshot each.
        self.record_screens = False
        self.screens: list[m.ScreenSnapshot] = []
        self.screen_pngs: list[bytes] = []
        self.metrics: Metrics | None = None
        self.on_close: Callable[[EnrollmentSession], Awaitable[None]] | None = None

    # --- public steps ---
    async def start(self, ticket_url: str) -> None:
        ticket = dict(parse_qsl(urlsplit(ticket_url).query)).get("ticket")
        self.redactor.add_secret(ticket)
        await self._step("start", {S.STARTING}, lambda: self._open(ticket_url))

    async def submit_phone(self, phone: PhoneNumber, channel: m.Channel) -> None:
        self.redactor.add_phone(phone.e164, phone.national)
        self.phone, self.channel = phone, channel
        since = (time.monotonic(), _now())

        async def run() -> Outcome:
            assert self.driver is not None  # guaranteed by the awaiting_phone state
            return await self.driver.submit_phone(phone, channel)

        await self._step("phone", {S.AWAITING_PHONE}, run)
        self._maybe_wait_for_inbox(since)

    async def submit_code(self, code: str) -> None:
        self.redactor.add_secret(code)

        async def run() -> Outcome:
            assert self.driver is not None
            self.code_attempts += 1
            return await self.driver.submit_code(code)

        await self._step("code", {S.AWAITING_CODE}, run)

    async def resend(self) -> None:
        async def run() -> Outcome:
            assert self.driver is not None
            return await self.driver.resend()

        since = (time.monotonic(), _now())
        await self._step("resend", {S.AWAITING_CODE}, run)
        self._maybe_wait_for_inbox(since)

    async def _snapshot(self, name: str) -> None:
        self.screens.append(await read_screen(self.page, name, self.redactor))
        self.screen_pngs.append(await screenshot_png(self.page))

    # --- codes from the OTP inbox ---
    def _maybe_wait_for_inbox(self, since: tuple[float, datetime]) -> None:
        """In inbox mode, once a code was sent, waits for it in the background and submits it."""
        if self.code_source != "inbox" or self.state is not S.AWAITING_CODE or self.inbox is None:
            return
        if self._auto_code is not None and not self._auto_code.done():
            self._auto_code.cancel()  # a resend supersedes the wait for the previous code
        self._auto_code = asyncio.get_running_loop().create_task(self._code_from_inbox(*since))

    async def _code_from_inbox(self, since_mono: float, since_wall: datetime) -> None:
        assert self.inbox is not None
        assert self.phone is not None
        started_at, t0 = _now(), time.monotonic()
        code = await self.inbox.wait_for_code(
            self.phone.e164, since_mono, since_wall, self.settings.inbox_wait_s
        )
        if self.closed or self.state is not S.AWAITING_CODE:
            return
        if code is None:
            async with self.lock:
                await self._record("inbox", started_at, t0, Outcome("rejected", "inbox_timeout"))
            return
        async with self.lock:
            await self._record("inbox", started_at, t0, Outcome("ok"))
        try:
            await self.submit_code(code)
        except BridgeError:
            log.info("inbox code submission failed", extra={"enrollment_id": self.id})

    async def screenshot(self) -> bytes:
        if self.closed:
            if self.final_screenshot is not None:
                return self.final_screenshot
            raise StepOutOfOrderError("the enrollment's page is closed", enrollment_id=self.id)
        async with self.lock:
            with translate_playwright_errors("taking a screenshot"):
                return await self.page.screenshot(type="png")

    # --- state machine ---
    async def _step(
        self,
        name: m.StepName,
        allowed: set[m.EnrollmentState],
        run: Callable[[], Awaitable[Outcome]],
    ) -> None:
        with _bound(enrollment_id=self.id, step=name):  # every log line of the step carries both
            await self._locked_step(name, allowed, run)

    async def _locked_step(
        self,
        name: m.StepName,
        allowed: set[m.EnrollmentState],
        run: Callable[[], Awaitable[Outcome]],
    ) -> None:
        async with self.lock:
            self._check_allowed(name, allowed)
            self.last_activity = time.monotonic()
            started_at, t0 = _now(), time.monotonic()
            try:
                async with asyncio.timeout(self.settings.step_timeout_s + 5):
                    with translate_playwright_errors(f"running the {name} step"):
                        outcome = await run()
                        if self.driver is not None and self.record_screens:
                            await observe(self.driver)
            except TimeoutError as exc:
                outcome = Outcome.error("widget_timeout", None)
                log.debug("step timed out", exc_info=exc)
            except BridgeError as exc:
                if self.closed and self.last_error and self.last_error.code == "browser_crashed":
                    raise BrowserCrashedError(
                        OutcomeCode.BROWSER_CRASHED.message, enrollment_id=self.id
                    ) from exc
                if self.closed:
                    # Cancelled or expired while the step ran: the close, not the browser, ended it.
                    raise StepOutOfOrderError(
                        f"the enrollment was {self.state.value} during the {name} step",
                        enrollment_id=self.id,
                    ) from exc
                code = OutcomeCode.parse(exc.code) or OutcomeCode.WIDGET_ERROR
                await self._record(name, started_at, t0, Outcome.error(code, None))
                if isinstance(exc, BrowserCrashedError) or name == "start":
                    await self._finish(S.FAILED)  # no widget to go on with
                exc.enrollment_id = self.id
                raise
            await self._apply(name, started_at, t0, outcome)

    def _check_allowed(self, name: str, allowed: set[m.EnrollmentState]) -> None:
        if self.state is S.EXPIRED:
            raise EnrollmentExpiredError("the enrollment expired", enrollment_id=self.id)
        if self.state not in allowed:
            wanted = " or ".join(sorted(s.value for s in allowed))
            raise StepOutOfOrderError(
                f"cannot run the {name} step in state {self.state.value} (needs {wanted})",
                enrollment_id=self.id,
            )

    async def _open(self, ticket_url: str) -> Outcome:
        opened = time.monotonic()
        driver = await open_widget(self.page, self.recorder, ticket_url, self.settings.step_timeout_s)
        if driver is None:
            return Outcome.error("widget_unrecognized", None)
        # Loading the ticket page is waiting on the widget too, though no driver existed yet to time it.
        driver.clock.waited_s += time.monotonic() - opened
        self.driver = driver
        if self.record_screens:
            driver.observer = self._snapshot
        await self._emit_state(flavour=driver.flavour.value)
        return await driver.ready()

    async def _apply(self, name: m.StepName, started_at: datetime, t0: float, out: Outcome) -> None:
        await self._record(name, started_at, t0, out)
        if out.error_code == "widget_timeout":
            raise WidgetTimeoutError(OutcomeCode.WIDGET_TIMEOUT.message, enrollment_id=self.id)
        if out.error_code == "widget_unrecognized":
            path = await self._save_unrecognized()
            await self._finish(S.FAILED)
            where = (
                f" (screenshot saved as {path.name})"
                if path
                else f" (see GET /v1/enrollments/{self.id}/screenshot)"
            )
            raise WidgetUnrecognizedError(
                OutcomeCode.WIDGET_UNRECOGNIZED.message + where, enrollment_id=self.id
            )
        if out.kind == "terminal":
            await self._finish(S.FAILED)
        elif out.kind == "ok":
            next_state = {"start": S.AWAITING_PHONE, "phone": S.AWAITING_CODE}.get(name)
            if name == "code":
                self.recovery_code = out.recovery_code
                self.redactor.add_secret(out.recovery_code)
                await self._finish(S.COMPLETED)
            elif next_state is not None:
                await self._set_state(next_state)
        elif name == "start":
            await self._finish(S.FAILED)

    async def _record(self, name: m.StepName, started_at: datetime, t0: float, out: Outcome) -> None:
        duration_ms = (time.monotonic() - t0) * 1000
        widget_ms = self.driver.clock.take_ms() if self.driver else duration_ms
        message = self.redactor.text(out.widget_message) if out.widget_message else None
        step = m.Step(
            name=name,
            outcome={"ok": "ok", "rejected": "rejected", "terminal": "failed"}[out.kind]
            if out.error_code != "widget_timeout"
            else "timeout",
            started_at=started_at,
            duration_ms=round(duration_ms, 1),
            widget_ms=round(min(widget_ms, duration_ms), 1),
            widget_message=message,
            error_code=out.error_code,
        )
        self.steps.append(step)
        if self.metrics is not None:
            self.metrics.steps.labels(name, step.outcome).inc()
            self.metrics.step_seconds.labels(name).observe(step.duration_ms / 1000)
            self.metrics.widget_seconds.labels(name).observe(step.widget_ms / 1000)
        if out.error_code:
            self.last_error = m.LastError(
                code=out.error_code,
                message=out.error_code.message,
                widget_message=message,
            )
        else:
            self.last_error = None
        self.updated_at = _now()
        self.last_activity = time.monotonic()
        await self.events.emit("step", step.model_dump(mode="json"))

    async def _set_state(self, state: m.EnrollmentState) -> None:
        self.state = state
        if state.terminal and self.metrics is not None:
            self.metrics.enrollments_finished.labels(state.value).inc()
        self.updated_at = _now()
        await self._emit_state()

    async def _emit_state(self, **extra: str) -> None:
        data: dict[str, object] = {"state": self.state.value, **extra}
        if self.last_error:
            data["last_error"] = self.last_error.model_dump()
        await self.events.emit("state", data)

    async def _finish(self, state: m.EnrollmentState) -> None:
        """Moves to a terminal state and releases the browser context (the record stays readable)."""
        if state is S.FAILED and not self.closed:
            self.final_screenshot = await screenshot_png(self.page) or None
        await self._end(state)

    async def _save_unrecognized(self) -> Path | None:
        if not self.settings.save_screenshots:
            return None
        png = await screenshot_png(self.page)
        if not png:
            return None
        path = write_private(self.settings.artifacts_dir, f"{self.id}-unrecognized.png", png)
        self.artifacts.append(path)
        return path

    def delete_artifacts(self) -> None:
        delete_all(self.artifacts)

    # --- lifecycle ---
    async def close(self, state: m.EnrollmentState, error_code: OutcomeCode | None = None) -> None:
        """Ends the enrollment from outside (cancel, expiry, browser crash) and frees its context."""
        if self.state.terminal:
            await self.release()
            return
        if error_code:
            self.last_error = m.LastError(code=error_code, message=error_code.message)
        await self._end(state)

    async def _end(self, state: m.EnrollmentState) -> None:
        # Resources first: once a reader sees the final state, its session slot is already free.
        await self._free()
        await self._set_state(state)
        await self.events.close()

    async def release(self) -> None:
        await self._free()
        await self.events.close()

    async def _free(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._auto_code is not None and self._auto_code is not asyncio.current_task():
            self._auto_code.cancel()
        self.recorder.forget_pending()
        # Unredacted responses were only needed to drive the widget; do not keep them around.
        self.recorder.raw_responses.clear()
        if self.settings.trace:
            await self._save_trace()
        try:
            await self.context.close()
        except Exception:
            log.debug("context close failed", exc_info=True)
        if self.on_close is not None:
            await self.on_close(self)

    async def _save_trace(self) -> None:
        path = private_path(self.settings.artifacts_dir, f"{self.id}-trace.zip")
        try:
            await stop_trace(self.context, str(path))
        except BridgeError:
            log.warning("could not save the trace", extra={"enrollment_id": self.id})
            return
        restrict(path)
        self.artifacts.append(path)

    def view(self) -> m.Enrollment:
        return m.Enrollment(
            id=self.id,
            state=self.state,
            flavour=self.driver.flavour if self.driver else None,
            phone_number=self.phone.masked if self.phone else None,
            channel=self.channel,
            code_source=self.code_source,
            recovery_code=self.recovery_code if self.state is S.COMPLETED else None,
            last_error=self.last_error,
            code_attempts=self.code_attempts,
            created_at=self.created_at,
            updated_at=self.updated_at,
            expires_at=self.expires_at,
            steps=list(self.steps),
            calls=self.recorder.total,
        )
