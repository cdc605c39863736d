"""Opens a ticket URL and recognises which widget flavour answered, returning its page object."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from playwright.async_api import Page

from bridge.capture import CallRecorder
from bridge.widgets import texts as t
from bridge.widgets.base import WidgetDriver, visible
from bridge.widgets.classic import ClassicWidget
from bridge.widgets.universal import UniversalWidget

# A Universal Login redeem page normally submits itself; a widget whose script did not run (or that waits
# for a click, as the no-JavaScript text suggests) gets one click on its Continue button after this long.
REDEEM_CLICK_AFTER_S = 1.5
# Both signals are read locally (the recorder's request log and the page's URL), so polling often
# costs no round trip to the browser and keeps detection close to the moment the signal appears.
DETECT_POLL_S = 0.005


async def open_widget(page: Page, recorder: CallRecorder, url: str, timeout_s: float) -> WidgetDriver | None:
    """Navigates to the ticket and waits for a known flavour; None when none showed up in time.

    Classic announces itself by calling the Guardian API's start-flow; Universal Login by landing on a
    ``/u/`` route after the ticket redemption redirect. Both are documented behaviour, not markup.
    """
    await page.goto(url, wait_until="commit")
    t0 = time.monotonic()
    clicked = False
    while time.monotonic() - t0 < timeout_s:
        if "start-flow" in recorder.requested:
            return ClassicWidget(page, recorder, timeout_s)
        if urlsplit(page.url).path.startswith("/u/"):
            return UniversalWidget(page, recorder, timeout_s)
        if not clicked and time.monotonic() - t0 > REDEEM_CLICK_AFTER_S:
            button = page.get_by_role("button", name=t.SUBMIT).filter(visible=True)
            if await visible(button) and "start-flow" not in recorder.requested:
                clicked = True
                await button.first.click(no_wait_after=True)
        await asyncio.sleep(DETECT_POLL_S)
    return None
