"""What a screenshot must not show: the phone number, typed codes and the recovery code, found by the
same documented fields and texts the page objects use, painted over in every picture the bridge takes."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page

from bridge.redact import RECOVERY_CODE
from bridge.widgets.classic_table import CLASSIC, ClassicTable
from bridge.widgets.locate import locator
from bridge.widgets.universal_table import UNIVERSAL

# A phone number written out on a page ("we sent a code to +1 415 555 0123").
_PHONE_TEXT = re.compile(r"\+\s?\d[\d\s().-]{5,}\d")
MASK_COLOR = "#000000"


def secret_fields(page: Page, classic: ClassicTable = CLASSIC) -> list[Locator]:
    """Locators of every field or text on ``page`` that may hold a secret, whichever flavour it is."""
    controls = (classic.phone_input, classic.code_input, UNIVERSAL.phone_input, UNIVERSAL.code_input)
    found = [locator(page, control) for control in controls]
    found += [
        page.locator("input[type=tel], input[autocomplete=one-time-code], input[autocomplete=tel]"),
        page.get_by_text(RECOVERY_CODE),
        page.get_by_text(_PHONE_TEXT),
    ]
    return found


async def masked_screenshot(page: Page, classic: ClassicTable = CLASSIC) -> bytes:
    """A PNG of the page now with every secret field painted over."""
    return await page.screenshot(type="png", mask=secret_fields(page, classic), mask_color=MASK_COLOR)
