"""Page object for the Universal Login enrollment pages: one server-rendered screen per ``/u/`` route.

Each action is a form POST answered by a redirect to the next screen, so a step is "click, wait for the
next document, read which screen it is". Screens are told apart by their documented routes; errors by
their documented texts.
"""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Locator, Page

from bridge.capture import CallRecorder
from bridge.models import Channel, Flavour
from bridge.outcomes import OutcomeCodeName
from bridge.phone import PhoneNumber
from bridge.widgets import texts as t
from bridge.widgets.base import (
    Outcome,
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

# How long a redeem page gets to submit itself before the bridge presses its Continue button.
REDEEM_WAIT_S = 1.5

RESULT_TEXTS: tuple[tuple[re.Pattern[str], OutcomeCodeName | None], ...] = (
    (re.compile(r"all set|successfully added", re.IGNORECASE), None),
    *((e.pattern, e.code) for e in t.ERROR_TEXTS if e.terminal),
)


class UniversalWidget(WidgetBase):
    flavour = Flavour.UNIVERSAL

    def __init__(self, page: Page, recorder: CallRecorder, timeout_s: float) -> None:
        super().__init__(page, recorder, timeout_s)
        # What was read of the page right after the last submit; None once the page changes.
        self._read: PageRead | None = None

    # --- locators: the only place this flavour's elements are described ---
    def _phone_inputs(self) -> list[Locator]:
        return [
            *self._text_inputs(t.UL_PHONE_PLACEHOLDER),
            self.page.get_by_role("textbox", name=t.GENERIC_INPUT_LABEL),
            self.page.locator("input[type=tel]"),
            self.page.locator("input[name=phone]"),  # the documented form field
        ]

    def _code_inputs(self) -> list[Locator]:
        return self._text_inputs(
            t.UL_CODE_PLACEHOLDER, "input#code", "input[name=code]", "input[autocomplete=one-time-code]"
        )

    def _recovery_checkbox(self) -> list[Locator]:
        return [
            self.page.get_by_label(t.UL_RECOVERY_CHECKBOX),
            self.page.get_by_role("checkbox", name=t.UL_RECOVERY_CHECKBOX),
            self.page.locator("input[type=checkbox][name=saved]"),  # the documented form field
        ]

    def _continue(self) -> list[Locator]:
        return [
            # The documented default action first: a CSS match costs far less than accessible names.
            self.page.locator("button[name=action][value=default]").filter(visible=True),
            self.page.get_by_role("button", name=t.SUBMIT).filter(visible=True),
        ]

    def _route(self) -> str:
        return urlsplit(self.page.url).path.rstrip("/").rsplit("/", 1)[-1]

    async def screen_name(self) -> str:
        """The screen by its documented route; by what it shows when the route is not one we know or
        does not match its content (a widget that answers a POST with the next screen directly)."""
        by_route = t.UL_ROUTES.get(self._route(), "unknown")
        if by_route in ("chooser", "country", "result"):
            return by_route
        if self._read is not None:  # the page was just read: tell its screen from its controls' texts
            for name, text in (
                ("recovery", t.UL_RECOVERY_CHECKBOX),
                ("code", t.UL_CODE_PLACEHOLDER),
                ("phone", t.UL_PHONE_PLACEHOLDER),
            ):
                if self._read.shows(text):
                    return name
        checks: list[tuple[str, list[Locator]]] = [
            ("recovery", self._recovery_checkbox()),
            ("code", self._code_inputs()),
            ("phone", self._phone_inputs()),
        ]
        if by_route != "unknown":  # the route's own screen first: the common case costs one check
            checks.sort(key=lambda check: check[0] != by_route)
        for name, candidates in checks:
            if await first_visible(candidates) is not None:
                return name
        return by_route

    # --- steps ---
    async def ready(self) -> Outcome:
        async with self.clock.waiting():
            await self.page.wait_for_load_state("domcontentloaded")
        screen = await self.screen_name()
        if screen == "redeem":
            # A redeem page under /u/: it normally submits itself; otherwise press its Continue.
            screen = await self._past_redeem()
        if screen == "chooser":
            await observe(self)
            factor = await first_visible([self.page.get_by_role("button", name=t.UL_SMS_FACTOR)])
            if factor is None:
                return Outcome.error("widget_unrecognized", None)
            await self._click_and_settle(factor)
            screen = await self.screen_name()
        if screen == "phone":
            return Outcome("ok")
        return await self._unexpected(screen)

    async def _past_redeem(self) -> str:
        route = self._route()
        try:
            async with self.clock.waiting():
                await self.page.wait_for_url(
                    lambda url: urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] != route,
                    wait_until="domcontentloaded",
                    timeout=REDEEM_WAIT_S * 1000,
                )
        except PlaywrightError:
            button = await first_visible(self._continue())
            if button is not None:
                await self._click_and_settle(button)
        return await self.screen_name()

    async def submit_phone(self, phone: PhoneNumber, channel: Channel) -> Outcome:
        # Finding the phone field is also the check that this is the phone screen.
        field = await first_visible(self._phone_inputs())
        if field is None:
            return await self._unexpected(await self.screen_name())
        outcome = await self._choose_country(phone)
        if outcome is not None:
            return outcome
        await field.fill(phone.national)  # a lazy locator: found again if the picker reloaded the page
        # Only the combined phone screen offers a channel; on the SMS screen there is nothing to pick.
        if channel == "voice" or self._route() == "mfa-phone-enrollment":
            radio = self.page.get_by_role("radio", name=t.UL_VOICE if channel == "voice" else t.UL_SMS)
            if await visible(radio):
                await radio.first.check()
            elif channel == "voice":
                return Outcome("rejected", "channel_unsupported", "This tenant offers no voice option")
        outcome = await self._submit_form()
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
            return await self._result()
        return await self._unexpected(screen)

    async def resend(self) -> Outcome:
        button = await first_visible(
            [
                self.page.get_by_role("button", name=t.UL_RESEND),
                self.page.get_by_role("link", name=t.UL_RESEND),
            ]
        )
        if button is None:
            return Outcome.error("widget_unrecognized", None)
        outcome = await self._click_and_settle(button)
        if outcome is not None:
            return outcome
        code, message = await error_message(self.page)
        if code:
            return Outcome.error(code, message)
        screen = await self.screen_name()
        return Outcome("ok") if screen == "code" else await self._unexpected(screen)

    # --- helpers ---
    async def _choose_country(self, phone: PhoneNumber) -> Outcome | None:
        # The documented action value first, read in one round trip; the role fallback only when absent.
        by_value = self.page.locator("button[value=pick-country-code]")
        picker = by_value.first
        # count() and inner_text() run in the page's utility world, which locators use anyway; an
        # evaluation in the main world would cost that world's set-up on every new page.
        labels = [await picker.inner_text()] if await by_value.count() else []
        if not labels:
            found = await first_visible([self.page.get_by_role("button", name=t.UL_COUNTRY_PICKER)])
            if found is None:
                return None  # no picker: the national number alone is what the screen wants
            picker, labels = found, [await found.inner_text()]
        label = labels[0].strip()
        shown = re.search(rf"\+{phone.country_code}(?!\d)", label)
        if shown and any(re.search(rf"\b{r}\b", label) for r in phone.regions):
            return None
        outcome = await self._click_and_settle(picker)
        if outcome is not None:
            return outcome
        if await self.screen_name() != "country":
            return await self._unexpected(await self.screen_name())
        await observe(self)
        cc = phone.country_code
        candidates: list[Locator] = []
        for region in phone.regions:
            candidates.append(self.page.locator(f'button[value="selection-action::{region}{cc}"]'))
            candidates.append(
                self.page.get_by_role("button", name=re.compile(rf"\b{region}\b.*\+{cc}(?!\d)"))
            )
        choice = await first_visible(candidates)
        if choice is None:
            return Outcome("rejected", "invalid_phone_number", "The widget offers no such country")
        outcome = await self._click_and_settle(choice)
        if outcome is not None:
            return outcome
        if await self.screen_name() != "phone":
            return await self._unexpected(await self.screen_name())
        return None

    async def _submit_form(self) -> Outcome | None:
        """Presses Continue and waits for the answer; returns an outcome when the screen shows an error."""
        button = await first_visible(self._continue())
        if button is None:
            return Outcome.error("widget_unrecognized", None)
        outcome = await self._click_and_settle(button)
        if outcome is not None:
            return outcome
        self._read = await read_page(self.page)
        code, message = classify_page(self._read)
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
                        await asyncio.wait_for(asyncio.shield(navigated), 0.25)
                    except TimeoutError:
                        if await alert_text(self.page):
                            code, message = await error_message(self.page)
                            return Outcome.error(code or "widget_error", message)
                        if time.monotonic() > deadline:
                            return Outcome.error("widget_timeout", None)
                # Playwright clears the frame's load states before it reports the commit, so this
                # waits for the new document's own DOMContentLoaded (an event, no polling).
                await self.page.wait_for_load_state("domcontentloaded")
            if self.page.url.startswith("chrome-error:"):
                # The form POST never got an answer: the widget's page is gone, and with it the flow.
                return Outcome("terminal", "upstream_error", None)
        except PlaywrightError:
            return Outcome.error("widget_timeout", None)
        finally:
            self.page.remove_listener("framenavigated", on_nav)
        return None

    async def _acknowledge_recovery(self) -> Outcome:
        # The text read right after the code was accepted usually holds it; else look in fields too.
        known = t.find_recovery_code(self._read.text) if self._read is not None else None
        recovery = known or await recovery_code_on_page(self.page)
        box = await first_visible(self._recovery_checkbox())
        if box is None:
            return Outcome.error("widget_unrecognized", None)
        await observe(self)
        await box.check()
        outcome = await self._submit_form()
        if outcome is not None:
            return outcome
        if await self.screen_name() != "result":
            return await self._unexpected(await self.screen_name())
        result = await self._result()
        result.recovery_code = recovery
        return result

    async def _result(self) -> Outcome:
        # The text read right after the last submit is this page's; no need to ask again.
        text = self._read.text if self._read is not None else await body_text(self.page)
        for pattern, code in RESULT_TEXTS:
            if pattern.search(text):
                if code is None:
                    return Outcome("ok")
                line = next((ln.strip() for ln in text.splitlines() if pattern.search(ln)), None)
                return Outcome("terminal", code, line)
        return Outcome("terminal", "widget_failed", text.strip()[:200] or None)

    async def _unexpected(self, screen: str) -> Outcome:
        if screen == "result":
            return await self._result()
        code, message = await error_message(self.page)
        if code:
            return Outcome.error(code, message)
        return Outcome.error("widget_unrecognized", None)
