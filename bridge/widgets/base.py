"""What every widget driver offers and small helpers over Playwright locators (``Outcome`` lives in
bridge.outcomes and is re-exported here for the drivers)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

from bridge.capture import CallRecorder
from bridge.models import Channel, Flavour
from bridge.outcomes import Outcome as Outcome  # re-exported: the drivers import it from here
from bridge.outcomes import OutcomeCode
from bridge.phone import PhoneNumber
from bridge.widgets.texts import ERROR_TEXTS, ErrorText, classify_text, find_recovery_code


class Stopwatch:
    """Adds up the time a driver spends waiting on the widget, to split step time into its parts."""

    def __init__(self) -> None:
        self.waited_s = 0.0

    @asynccontextmanager
    async def waiting(self) -> AsyncIterator[None]:
        t0 = time.monotonic()
        try:
            yield
        finally:
            self.waited_s += time.monotonic() - t0

    def take_ms(self) -> float:
        value, self.waited_s = self.waited_s * 1000, 0.0
        return value


ScreenObserver = Callable[[str], Awaitable[None]]


class WidgetBase:
    """What both page objects keep: the page, the call recorder, the step timeout, the clocks."""

    def __init__(self, page: Page, recorder: CallRecorder, timeout_s: float) -> None:
        self.page = page
        self.recorder = recorder
        self.timeout_s = timeout_s
        self.clock = Stopwatch()
        self.observer: ScreenObserver | None = None


class WidgetDriver(Protocol):
    flavour: Flavour
    clock: Stopwatch
    # Called with the screen's name each time a stable screen shows (contract recording); optional.
    observer: ScreenObserver | None

    async def ready(self) -> Outcome:
        """Brings the widget to phone entry (past any factor chooser)."""

    async def submit_phone(self, phone: PhoneNumber, channel: Channel) -> Outcome: ...

    async def submit_code(self, code: str) -> Outcome:
        """Enters the code and, when accepted, acknowledges the recovery-code screen."""

    async def resend(self) -> Outcome: ...

    async def screen_name(self) -> str:
        """A short name of the screen shown now (``phone``, ``code``, ``recovery``, ...)."""


async def visible(locator: Locator) -> bool:
    try:
        return await locator.first.is_visible()
    except PlaywrightError:
        return False


async def first_visible(candidates: list[Locator]) -> Locator | None:
    """The first candidate that is visible now (no waiting)."""
    for candidate in candidates:
        if await visible(candidate):
            return candidate.first
    return None


async def wait_first_visible(page: Page, candidates: list[Locator], timeout_s: float) -> Locator | None:
    """Waits until one of ``candidates`` is visible; returns it, or None after ``timeout_s``."""
    combined = candidates[0]
    for other in candidates[1:]:
        combined = combined.or_(other)
    try:
        await combined.first.wait_for(state="visible", timeout=timeout_s * 1000)
    except PlaywrightError:
        return None
    return await first_visible(candidates)


def alert_locator(page: Page) -> Locator:
    return page.get_by_role("alert").filter(has_text=re.compile(r"\S"))


async def body_text(page: Page) -> str:
    try:
        return await page.locator("body").inner_text(timeout=2000)
    except PlaywrightError:
        return ""


async def recovery_code_on_page(page: Page) -> str | None:
    """The recovery code shown on the page: in its text, or in a read-only field some widgets use."""
    found = find_recovery_code(await body_text(page))
    if found:
        return found
    try:
        values: list[str] = await page.evaluate(
            "() => Array.from(document.querySelectorAll('input, textarea')).map(e => e.value || '')"
        )
    except PlaywrightError:
        return None
    return find_recovery_code(" ".join(values))


# One round trip for what a step needs to read of a page: the visible errors that carry a code
# (``data-error-code``, as real Universal Login pages mark them), the visible ARIA alerts' text, the
# page's text, the placeholders and labels of its visible controls (enough to tell its screen), and
# the result status an ACUL page states in its context.
_READ_PAGE = """
() => {
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const visible = sel => Array.from(document.querySelectorAll(sel)).filter(shown);
  const text = el => (el.innerText || '').trim();
  const alerts = visible('[role=alert]').map(text).filter(Boolean);
  const context = window.universal_login_context;
  const data = context && context.screen && context.screen.data;
  return {
    alert: alerts[0] || null,
    codes: visible('[data-error-code]').map(el => [el.getAttribute('data-error-code') || '', text(el)]),
    status: data && typeof data.status === 'string' ? data.status : null,
    screen: context && context.screen && typeof context.screen.name === 'string' ? context.screen.name : null,
    text: document.body ? document.body.innerText : '',
    placeholders: visible('input, textarea').map(el => el.getAttribute('placeholder') || ''),
    labels: visible('label').map(el => (el.innerText || '').trim()),
  };
}
"""


@dataclass(frozen=True)
class PageRead:
    alert: str | None = None
    # (data-error-code, text) of each visible coded error, in page order.
    codes: tuple[tuple[str, str], ...] = ()
    status: str | None = None
    # The screen's name as an ACUL page states it (``universal_login_context.screen.name``).
    screen: str | None = None
    text: str = ""
    placeholders: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    def shows(self, text: str) -> bool:
        """Whether a visible control carries ``text`` as its placeholder or in its label."""
        wanted = text.casefold()
        return any(p.casefold() == wanted for p in self.placeholders) or any(
            wanted in label.casefold() for label in self.labels
        )


async def read_page(page: Page) -> PageRead:
    try:
        seen: dict[str, Any] = await page.evaluate(_READ_PAGE)
    except PlaywrightError:
        return PageRead()
    codes = tuple((str(code), str(text)) for code, text in seen.get("codes") or ())
    status = seen.get("status")
    screen = seen.get("screen")
    return PageRead(
        alert=seen.get("alert"),
        codes=codes,
        status=status if isinstance(status, str) else None,
        screen=screen if isinstance(screen, str) else None,
        text=seen.get("text") or "",
        placeholders=tuple(seen.get("placeholders") or ()),
        labels=tuple(seen.get("labels") or ()),
    )


async def alert_text(page: Page) -> str | None:
    """The first visible ARIA alert's text, in one round trip."""
    return (await read_page(page)).alert


NO_CODES: Mapping[str, OutcomeCode] = {}


def classify_page(
    read: PageRead,
    codes: Mapping[str, OutcomeCode] = NO_CODES,
    errors: tuple[ErrorText, ...] = ERROR_TEXTS,
) -> tuple[OutcomeCode | None, str | None]:
    """The error a page shows, as (bridge code, widget text); (None, None) when there is none.

    An error's documented code (``data-error-code``, looked up in ``codes``) is read first, whatever
    its text says (a tenant may have customised or translated it); then an ARIA alert; then the page
    text is searched for a documented error text, which finds errors whatever element holds them.
    """
    for code, text in read.codes:
        known = codes.get(code)
        if known is not None:
            return known, text or None
    for code, text in read.codes:
        entry = classify_text(text, errors)
        if entry is not None or (code and text):
            return (entry.code if entry else OutcomeCode.WIDGET_ERROR), text
    if read.alert:
        entry = classify_text(read.alert, errors)
        return (entry.code if entry else OutcomeCode.WIDGET_ERROR), read.alert
    text = read.text
    for entry in errors:
        match = entry.pattern.search(text)
        if match:
            line = next((ln.strip() for ln in text.splitlines() if entry.pattern.search(ln)), None)
            return entry.code, line or match.group(0)
    return None, None


async def error_message(
    page: Page, codes: Mapping[str, OutcomeCode] = NO_CODES, errors: tuple[ErrorText, ...] = ERROR_TEXTS
) -> tuple[OutcomeCode | None, str | None]:
    return classify_page(await read_page(page), codes, errors)


async def observe(driver: WidgetDriver) -> None:
    """Tells the driver's observer which screen shows now; outside the widget-wait clock."""
    if driver.observer is not None:
        await driver.observer(await driver.screen_name())
