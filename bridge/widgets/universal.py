"""Page object for the Universal Login enrollment pages: one server-rendered screen per ``/u/`` route.

Each action is a form POST answered by a redirect to the next screen, so a step is "click, wait for the
next document, read which screen it is". Screens are told apart by their documented routes, errors by
their documented codes (``data-error-code``), results by their stated status; texts come last, so a
tenant's customised or translated texts do not stop the bridge. Every route, field, control, text and
timing comes from ``universal_table.UNIVERSAL``.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Locator, Page

from bridge.capture import CallRecorder
from bridge.models import Channel, Flavour
from bridge.outcomes import Outcome, OutcomeCode
from bridge.phone import PhoneNumber
from bridge.widgets import texts as t
from bridge.widgets.base import (
    PageRead,
    WidgetBase,
    alert_text,
    body_text,
    classify_page,
    error_message,
    first_visible,
    observe,
    read_page,
    recovery_code_on_page,
    visible,
)
from bridge.widgets.controls import Control
from bridge.widgets.locate import locator, locators
from bridge.widgets.universal_table import PASS_THROUGH, UNIVERSAL, UniversalTable

# Where Chromium lands when a navigation got no answer at all.
_BROWSER_ERROR_PAGE = "chrome-error:"


class UniversalWidget(WidgetBase):
    flavour = Flavour.UNIVERSAL

    def __init__(
        self, page: Page, recorder: CallRecorder, timeout_s: float, table: UniversalTable = UNIVERSAL
    ) -> None:
        super().__init__(page, recorder, timeout_s)
        # What this page object looks for; a tenant with customised texts can pass its own.
        self.table = table
        # What was read of the page right after the last submit; None once the page changes.
        self._read: PageRead | None = None

    # --- locators: built from the table, the only place this flavour's elements are described ---
    def _all(self, control: Control) -> list[Locator]:
        return locators(self.page, control)

    def _phone_inputs(self) -> list[Locator]:
        return self._all(self.table.phone_input)

    def _code_inputs(self) -> list[Locator]:
        return self._all(self.table.code_input)

    def _recovery_checkbox(self) -> list[Locator]:
        return self._all(self.table.recovery_checkbox)

    def _continue(self) -> list[Locator]:
        return self._all(self.table.continue_button)

    def _route(self) -> str:
        return urlsplit(self.page.url).path.rstrip("/").rsplit("/", 1)[-1]

    async def screen_name(self) -> str:
        """The screen by its documented route; by what it shows when the route is not one we know or
        does not match its content (a widget that answers a POST with the next screen directly)."""
        by_route = self.table.routes.get(self._route(), "unknown")
        if by_route in self.table.route_screens:
            return by_route
        screens = self.table.screens
        if self._read is not None:  # the page was just read: tell its screen from its controls' texts
            for name, control in screens:
                if control.text is not None and self._read.shows(control.text):
                    return name
        checks = list(screens)
        if by_route != "unknown":  # the route's own screen first: the common case costs one check
            checks.sort(key=lambda check: check[0] != by_route)
        for name, control in checks:
            if await first_visible(self._all(control)) is not None:
                return name
        if by_route == "unknown":
            return await self._screen_by_content()
        return by_route

    async def _screen_by_content(self) -> str:
        """A screen at a route the bridge does not know: by the name the page states, else a result
        screen by its status or texts (its route is only assumed in Auth0's own SDK)."""
        read = self._read if self._read is not None else await read_page(self.page)
        stated = self.table.routes.get(read.screen or "")
        if stated is not None:
            return stated
        if read.status in self.table.result_status or any(p.search(read.text) for p, _ in self.table.results):
            return "result"
        return "unknown"

    # --- steps ---
    async def ready(self) -> Outcome:
        async with self.clock.waiting():
            await self.page.wait_for_load_state("domcontentloaded")
        screen = await self._past_pass_through(await self.screen_name())
        if screen == "chooser":
            await observe(self)
            factor = await first_visible(self._all(self.table.sms_factor))
            if factor is None:
                return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
            await self._click_and_settle(factor)
            screen = await self._past_pass_through(await self.screen_name())
        if screen == "phone":
            return Outcome("ok")
        return await self._unexpected(screen)

    async def _past_pass_through(self, screen: str) -> str:
        """Waits through screens that submit themselves (a redeem page, the browser-capabilities
        check, a page the bridge does not know that moves on by itself), each for a bounded time; a
        known one that stays gets its one Continue pressed."""
        for _ in range(self.table.timings.pass_through_hops):
            if screen not in PASS_THROUGH and screen != "unknown":
                return screen
            if not await self._moved_on():
                button = await first_visible(self._all(self.table.pass_through_button))
                if screen == "unknown" or button is None:
                    return screen
                await self._click_and_settle(button)
            screen = await self.screen_name()
        return screen

    async def _moved_on(self) -> bool:
        """Whether the page went to another route by itself within the pass-through wait."""
        route = self._route()
        wait_s = self.table.timings.redeem_wait_s
        while True:
            try:
                async with self.clock.waiting():
                    await self.page.wait_for_url(
                        lambda url: urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] != route,
                        wait_until="domcontentloaded",
                        timeout=wait_s * 1000,
                    )
            except PlaywrightError:
                # A page that did submit itself to a slow tenant is still loading: wait for it (up to
                # the step's time) rather than press its button and post the used state again.
                if self.recorder.documents_in_flight and wait_s < self.timeout_s:
                    wait_s = self.timeout_s
                    continue
                return False
            self._read = None
            return True

    async def submit_phone(self, phone: PhoneNumber, channel: Channel) -> Outcome:
        # Finding the phone field is also the check that this is the phone screen.
        field = await first_visible(self._phone_inputs())
        if field is None:
            return await self._unexpected(await self.screen_name())
        if await visible(locator(self.page, self.table.captcha)):
            # Bot detection wants a person; waiting would only end in a timeout.
            return Outcome("terminal", OutcomeCode.CAPTCHA_REQUIRED, None)
        outcome = await self._choose_country(phone)
        if outcome is not None:
            return outcome
        await field.fill(phone.national)  # a lazy locator: found again if the picker reloaded the page
        submitter: Locator | None = None
        # Only the combined phone screen offers a channel; on the SMS screen there is nothing to pick.
        if channel == "voice" or self._route() in self.table.channel_routes:
            voice = channel == "voice"
            radio = locator(self.page, self.table.voice_channel if voice else self.table.sms_channel)
            button = locator(self.page, self.table.voice_button if voice else self.table.sms_button)
            if await visible(radio):
                await radio.first.check()
            elif await visible(button):
                submitter = button.first  # the channel's own submit button (named ``type``)
            elif voice:
                return Outcome(
                    "rejected", OutcomeCode.CHANNEL_UNSUPPORTED, "This tenant offers no voice option"
                )
        outcome = await self._submit_form(submitter)
        if outcome is not None:
            return outcome
        screen = await self.screen_name()
        if screen == "code":
            return Outcome("ok")
        return await self._unexpected(screen)

    async def submit_code(self, code: str) -> Outcome:
        field = await first_visible(self._code_inputs())
        if field is None:
            return await self._unexpected(await self.screen_name())
        await field.fill(code)
        outcome = await self._submit_form()
        if outcome is not None:
            return outcome
        screen = await self.screen_name()
        if screen == "recovery":
            return await self._acknowledge_recovery()
        if screen == "result":
            return await self._result(after_success=True)
        return await self._unexpected(screen)

    async def resend(self) -> Outcome:
        button = await first_visible(self._all(self.table.resend))
        if button is None:
            return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
        outcome = await self._click_and_settle(button)
        if outcome is not None:
            return outcome
        code, message = await error_message(self.page, self.table.error_codes)
        if code:
            return Outcome.error(code, message)
        screen = await self.screen_name()
        return Outcome("ok") if screen == "code" else await self._unexpected(screen)

    # --- helpers ---
    async def _choose_country(self, phone: PhoneNumber) -> Outcome | None:
        # The documented action value first, read in one round trip; the role fallback only when absent.
        by_value, *by_role = self._all(self.table.country_picker)
        picker = by_value.first
        # count() and inner_text() run in the page's utility world, which locators use anyway; an
        # evaluation in the main world would cost that world's set-up on every new page.
        labels = [await picker.inner_text()] if await by_value.count() else []
        if not labels:
            found = await first_visible(by_role)
            if found is None:
                return None  # no picker: the national number alone is what the screen wants
            picker, labels = found, [await found.inner_text()]
        label = labels[0].strip()
        country = self.table.country
        shown = country.dial_pattern(phone.country_code).search(label)
        if shown and any(country.region_pattern(r).search(label) for r in phone.regions):
            return None
        outcome = await self._click_and_settle(picker)
        if outcome is not None:
            return outcome
        if await self.screen_name() != "country":
            return await self._unexpected(await self.screen_name())
        await observe(self)
        candidates: list[Locator] = []
        for region in phone.regions:
            candidates += self._all(self.table.country_row(region, phone.country_code))
        choice = await first_visible(candidates)
        if choice is None:
            return Outcome("rejected", OutcomeCode.INVALID_PHONE_NUMBER, "The widget offers no such country")
        outcome = await self._click_and_settle(choice)
        if outcome is not None:
            return outcome
        if await self.screen_name() != "phone":
            return await self._unexpected(await self.screen_name())
        return None

    async def _submit_form(self, submitter: Locator | None = None) -> Outcome | None:
        """Presses Continue (or ``submitter``) and waits for the answer; returns an outcome when the
        screen shows an error."""
        button = submitter or await first_visible(self._continue())
        if button is None:
            return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
        outcome = await self._click_and_settle(button)
        if outcome is not None:
            return outcome
        self._read = await read_page(self.page)
        code, message = classify_page(self._read, self.table.error_codes)
        if code:
            return Outcome.error(code, message)
        return None

    async def _click_and_settle(self, target: Locator) -> Outcome | None:
        """Clicks and waits for the next document; a message shown without navigating (client-side
        validation) ends the wait too. Returns an outcome only when the step cannot go on."""
        loop = asyncio.get_running_loop()
        navigated: asyncio.Future[None] = loop.create_future()

        def on_nav(frame: Frame) -> None:
            if frame == self.page.main_frame and not navigated.done():
                navigated.set_result(None)

        self._read = None  # whatever was read belongs to the page being left
        self.page.on("framenavigated", on_nav)
        try:
            await target.click(no_wait_after=True)
            deadline = time.monotonic() + self.timeout_s
            async with self.clock.waiting():
                while not navigated.done():
                    try:
                        poll = self.table.timings.navigation_poll_s
                        await asyncio.wait_for(asyncio.shield(navigated), poll)
                    except TimeoutError:
                        if await alert_text(self.page):
                            code, message = await error_message(self.page, self.table.error_codes)
                            return Outcome.error(code or OutcomeCode.WIDGET_ERROR, message)
                        if time.monotonic() > deadline:
                            return Outcome.error(OutcomeCode.WIDGET_TIMEOUT, None)
                # Playwright clears the frame's load states before it reports the commit, so this
                # waits for the new document's own DOMContentLoaded (an event, no polling).
                await self.page.wait_for_load_state("domcontentloaded")
            if self.page.url.startswith(_BROWSER_ERROR_PAGE):
                # The form POST never got an answer: the widget's page is gone, and with it the flow.
                return Outcome("terminal", OutcomeCode.UPSTREAM_ERROR, None)
        except PlaywrightError:
            return Outcome.error(OutcomeCode.WIDGET_TIMEOUT, None)
        finally:
            self.page.remove_listener("framenavigated", on_nav)
        return None

    async def _acknowledge_recovery(self) -> Outcome:
        # The text read right after the code was accepted usually holds it; else look in fields too.
        known = t.find_recovery_code(self._read.text) if self._read is not None else None
        recovery = known or await recovery_code_on_page(self.page)
        box = await first_visible(self._recovery_checkbox())
        if box is None:
            return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)
        await observe(self)
        await box.check()
        outcome = await self._submit_form()
        if outcome is not None:
            return outcome
        if await self.screen_name() != "result":
            return await self._unexpected(await self.screen_name())
        result = await self._result(after_success=True)
        result.recovery_code = recovery
        return result

    async def _result(self, *, after_success: bool = False) -> Outcome:
        """The result screen's outcome: by its stated status (ACUL's ``screen.data.status``), then by
        its texts. Reached right after an accepted step (``after_success``) and showing no error, it
        is a success even when its texts are not Auth0's (customised or translated)."""
        # The page read right after the last submit is this page's; no need to ask again.
        read = self._read if self._read is not None else await read_page(self.page)
        if read.status is not None and read.status in self.table.result_status:
            code = self.table.result_status[read.status]
            if code is None:
                return Outcome("ok")
            return Outcome("terminal", code, _first_line(read.text))
        text = read.text or await body_text(self.page)
        for pattern, code in self.table.results:
            if pattern.search(text):
                if code is None:
                    return Outcome("ok")
                line = next((ln.strip() for ln in text.splitlines() if pattern.search(ln)), None)
                return Outcome("terminal", code, line)
        if after_success and classify_page(read, self.table.error_codes) == (None, None):
            return Outcome("ok")
        return Outcome("terminal", OutcomeCode.WIDGET_FAILED, text.strip()[:200] or None)

    async def _unexpected(self, screen: str) -> Outcome:
        if screen == "result":
            return await self._result()
        code, message = await error_message(self.page, self.table.error_codes)
        if code:
            return Outcome.error(code, message)
        return Outcome.error(OutcomeCode.WIDGET_UNRECOGNIZED, None)


def _first_line(text: str) -> str | None:
    """The first non-empty line of a page's text (its heading, on a result screen)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), None)
