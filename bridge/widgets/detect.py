"""Opens a ticket URL and recognises which widget flavour answered, returning its page object."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from playwright.async_api import Page

from bridge.capture import CallRecorder
from bridge.widgets.base import WidgetDriver, visible
from bridge.widgets.classic import ClassicWidget
from bridge.widgets.classic_table import CLASSIC, ClassicTable
from bridge.widgets.controls import DETECTION
from bridge.widgets.locate import locator
from bridge.widgets.universal import UniversalWidget
from bridge.widgets.universal_table import UNIVERSAL


async def open_widget(
    page: Page, recorder: CallRecorder, url: str, timeout_s: float, classic_table: ClassicTable = CLASSIC
) -> WidgetDriver | None:
    """Navigates to the ticket and waits for a known flavour; None when none showed up in time.

    Classic announces itself by calling the Guardian API's start-flow; Universal Login by landing on a
    ``/u/`` route after the ticket redemption redirect. Both are documented behaviour, not markup.
    """
    start_flow, ul_prefix = CLASSIC.api.start_flow, UNIVERSAL.path_prefix
    await page.goto(url, wait_until="commit")
    t0 = time.monotonic()
    clicked = False
    while time.monotonic() - t0 < timeout_s:
        if start_flow in recorder.requested:
            return ClassicWidget(page, recorder, timeout_s, classic_table)
        if urlsplit(page.url).path.startswith(ul_prefix):
            return UniversalWidget(page, recorder, timeout_s)
        if not clicked and time.monotonic() - t0 > DETECTION.redeem_click_after_s:
            button = locator(page, DETECTION.redeem_button)
            # A page that submitted itself to a slow tenant is still loading its next one: pressing
            # its button now would redeem the ticket a second time.
            loading = recorder.documents_in_flight > 0
            if not loading and await visible(button) and start_flow not in recorder.requested:
                clicked = True
                await button.first.click(no_wait_after=True)
        await asyncio.sleep(DETECTION.poll_s)
    return None
