"""Page object for the Classic Guardian widget: the hosted page whose script calls the Guardian API.

Outcomes come first from the widget's own Guardian API responses (captured by ``CallRecorder``), which are
unambiguous (verify-otp 204 vs 401), and then from the screen, found by its documented texts and roles.
Every control, text, API call and timing comes from ``classic_table.CLASSIC``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

from bridge.capture import CallRecorder
from bridge.models import Channel, Flavour
from bridge.outcomes import Outcome, OutcomeCode
from bridge.phone import PhoneNumber
from bridge.widgets import texts as t
from bridge.widgets.base import (
    WidgetBase,
    alert_locator,
    alert_text,
    error_message,
    first_visible,
    observe,
    recovery_code_on_page,
    visible,
    wait_first_visible,
)
from bridge.widgets.classic_table import CLASSIC, ERROR_SCREEN, ClassicTable
from bridge.widgets.controls import Control
from bridge.widgets.locate import locator, locators

# The options of a <select>, read in one round trip.
_SELECT_OPTIONS = "s => Array.from(s.options || []).map(o => ({value: o.value, label: o.textContent}))"


@dataclass(frozen=True)
class _Mark:
    """What the page looked like just before a submit, to tell its answer from what was there."""

    endpoint: str
    seq: int
    stale_alert: str | None
    requests: int


class ClassicWidget(WidgetBase):
    flavour = Flavour.CLASSIC

    def __init__(
        self, page: Page, recorder: CallRecorder, timeout_s: float, table: ClassicTable = CLASSIC
    ) -> None:
        super().__init__(page, recorder, timeout_s)
        # What this page object looks for; a widget with customised texts can pass its own.
        self.table = table

    # --- locators: built from the table, the only place this flavour's elements are described ---
    def _all(self, control: Control) -> list[Locator]:
        return locators(self.page, control)

    def _one(self, control: Control) -> Locator:
        return locator(self.page, control)

    def _phone_inputs(self) -> list[Locator]:
        return self._all(self.table.phone_input)

    def _code_inputs(self) -> list[Locator]:
        return self._all(self.table.code_input)

    def _recovery_checkbox(self) -> list[Locator]:
        return self._all(self.table.recovery_checkbox)

    def _congrats(self) -> Locator:
        return self._one(self.table.congrats)

    def _sms_choice(self) -> list[Locator]:
        return self._all(self.table.sms_choice)

    def _submit(self) -> Locator:
        return self._one(self.table.submit)

    async def screen_name(self) -> str:
        for name, control in self.table.screens:
            if await first_visible(self._all(control)) is not None:
                return name
        code, _ = await self._error_message()
        return ERROR_SCREEN if code else "unknown"

    # --- steps ---
    async def ready(self) -> Outcome:
        async with self.clock.waiting():
            start = await self.recorder.wait_for(self.table.api.start_flow, 0, self.timeout_s)
        if start is None:
            return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
        failure = self._api_failure(self.table.api.start_flow)
        if start.status is not None and start.status >= 400:
            return await self._with_message(failure or OutcomeCode.TICKET_INVALID)
        if self._device_account().get("status") not in (None, self.table.api.pending_status):
            return await self._with_message(OutcomeCode.ALREADY_ENROLLED)
        targets = [*self._phone_inputs(), *self._sms_choice()]
        async with self.clock.waiting():
            found = await wait_first_visible(self.page, targets, self.timeout_s)
        if found is None:
            code, message = await self._error_message()
            return Outcome.error(code or OutcomeCode.WIDGET_UNRECOGNIZED, message)
        if await first_visible(self._phone_inputs()) is None:
            await observe(self)
            choice = await first_visible(self._sms_choice())
            assert choice is not None  # one of the targets was visible
            await choice.click()
            async with self.clock.waiting():
                if await wait_first_visible(self.page, self._phone_inputs(), self.timeout_s) is None:
                    return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
        return Outcome("ok")

    async def submit_phone(self, phone: PhoneNumber, channel: Channel) -> Outcome:
        if channel != "sms":
            return Outcome(
                "rejected", OutcomeCode.CHANNEL_UNSUPPORTED, "The Classic widget enrolls by SMS only"
            )
        field = await first_visible(self._phone_inputs())
        if field is None:
            return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
        national = await self._choose_country(phone)
        await field.fill(national)
        mark = await self._mark(self.table.api.enroll)
        await self._press_submit(field)
        outcome = await self._await_call(mark)
        if outcome.kind != "ok":
            return outcome
        async with self.clock.waiting():
            found = await wait_first_visible(self.page, self._code_inputs(), self.timeout_s)
        return Outcome("ok") if found else Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)

    async def submit_code(self, code: str) -> Outcome:
        field = await first_visible(self._code_inputs())
        if field is None:
            return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
        await field.fill(code)
        mark = await self._mark(self.table.api.verify)
        await self._press_submit(field)
        outcome = await self._await_call(mark)
        if outcome.kind != "ok":
            return outcome
        return await self._acknowledge_recovery()

    async def resend(self) -> Outcome:
        link = await first_visible(self._all(self.table.resend))
        if link is None:
            return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
        mark = await self._mark(self.table.api.enroll)
        await link.click()
        return await self._await_call(mark)

    # --- helpers ---
    async def _choose_country(self, phone: PhoneNumber) -> str:
        """Selects the number's country when the widget has a selector; returns what to type.

        With a selector the national number is typed; without one, the full international number.
        """
        selector = self._one(self.table.country_select)
        if not await visible(selector):
            return phone.e164
        options: list[dict[str, Any]] = await selector.first.evaluate(_SELECT_OPTIONS)
        prefix = self.table.country.dial_pattern(phone.country_code)
        best = None
        for region in phone.regions:
            named = self.table.country.region_pattern(region)
            best = best or next((o for o in options if str(o["value"]).upper() == region), None)
            best = best or next((o for o in options if named.search(str(o["label"]))), None)
        best = best or next((o for o in options if prefix.search(str(o["label"]))), None)
        if best is None:
            return phone.e164
        await selector.first.select_option(value=str(best["value"]))
        return phone.national

    async def _press_submit(self, field: Locator) -> None:
        button = self._submit()
        if await visible(button):
            await button.first.click()
        else:
            await field.press("Enter")

    async def _alert_text(self) -> str | None:
        return await alert_text(self.page)

    def _device_account(self) -> dict[str, Any]:
        """The device account start-flow answered with (empty when none)."""
        start = self.recorder.raw_responses.get(self.table.api.start_flow) or {}
        account = start.get("device_account") if isinstance(start, dict) else None
        return account if isinstance(account, dict) else {}

    def _api_failure(self, endpoint: str) -> OutcomeCode | None:
        body = self.recorder.raw_responses.get(endpoint)
        if not isinstance(body, dict):
            return None
        after_start = endpoint != self.table.api.start_flow
        return t.classify_api_error(body.get("errorCode"), body.get("message"), after_start=after_start)

    async def _error_message(self) -> tuple[OutcomeCode | None, str | None]:
        return await error_message(self.page, errors=self.table.errors)

    async def _mark(self, endpoint: str) -> _Mark:
        return _Mark(
            endpoint, self.recorder.last_seq, await self._alert_text(), self.recorder.requested[endpoint]
        )

    async def _await_call(self, mark: _Mark) -> Outcome:
        """Waits for the widget's API call after a submit, or for a client-side validation message."""
        endpoint, clicked_at = mark.endpoint, time.monotonic()
        async with self.clock.waiting():
            while True:
                call = await self.recorder.wait_for(endpoint, mark.seq, self.table.timings.call_poll_s)
                if call is not None:
                    break
                alert = await self._alert_text()
                # A new message, or the same one again once it is clear no request went out (the
                # widget refused the input itself, e.g. a second code of the wrong length).
                no_request = self.recorder.requested[endpoint] == mark.requests
                grace = self.table.timings.client_check_grace_s
                quiet = no_request and time.monotonic() - clicked_at > grace
                if alert and (alert != mark.stale_alert or quiet):
                    entry = t.classify_text(alert, self.table.errors)
                    return Outcome.error(entry.code if entry else OutcomeCode.WIDGET_ERROR, alert)
                if time.monotonic() - clicked_at > self.timeout_s:
                    return Outcome.error(OutcomeCode.WIDGET_TIMEOUT, None)
        if call.status is not None and 200 <= call.status < 300:
            return Outcome("ok")
        # No errorCode: a bare 5xx or a request that never got an answer (the tenant is unreachable).
        code = self._api_failure(endpoint) or OutcomeCode.UPSTREAM_ERROR
        return await self._with_message(code)

    async def _with_message(self, code: OutcomeCode) -> Outcome:
        """The outcome for ``code``, with the widget's own text once it shows it (briefly waited for)."""
        # An ARIA alert, or any documented error text wherever the widget puts it.
        candidates = [alert_locator(self.page), self._one(self.table.error_text)]
        async with self.clock.waiting():
            await wait_first_visible(self.page, candidates, self.table.timings.message_wait_s)
        _, message = await self._error_message()
        return Outcome.error(code, message)

    async def _gone(self, box: Locator) -> Locator | None:
        """``box`` once it is hidden (its screen replaced), within the step timeout; else None."""
        try:
            await box.wait_for(state="hidden", timeout=self.timeout_s * 1000)
        except PlaywrightError:
            return None
        return box

    async def _acknowledge_recovery(self) -> Outcome:
        async with self.clock.waiting():
            box = await wait_first_visible(
                self.page, [*self._recovery_checkbox(), self._congrats()], self.timeout_s
            )
        if box is None:
            return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
        recovery = self._device_account().get("recovery_code") or await recovery_code_on_page(self.page)
        if await visible(self._congrats()):
            return Outcome("ok", recovery_code=recovery)
        await observe(self)
        await box.check()
        # Playwright's click waits for the button to become enabled once the box is ticked. A widget
        # whose button has no recognisable text gets its one visible button pressed instead.
        button = self._submit()
        if not await visible(button):
            button = self._one(self.table.any_button)
        await button.first.click()
        # Done once the recovery screen goes away (verify-otp had already confirmed the enrollment),
        # whatever the congratulations say: a customised or translated text is not the one known.
        async with self.clock.waiting():
            done = await self._gone(box)
        if done is None:
            code, message = await self._error_message()
            return Outcome.error(code or OutcomeCode.WIDGET_UNRECOGNIZED, message)
        return Outcome("ok", recovery_code=recovery)
