"""Issue 11 item 14: every screenshot the bridge takes masks the phone number, the typed code and the
recovery code (found by the widget tables' documented texts), and only the owner may fetch one."""

from __future__ import annotations

from playwright.async_api import Page

from bridge.widgets.classic_table import CODE_PLACEHOLDER
from bridge.widgets.classic_table import PHONE_PLACEHOLDER as CLASSIC_PHONE_PLACEHOLDER
from bridge.widgets.mask import masked_screenshot
from bridge.widgets.universal_table import PHONE_PLACEHOLDER as UL_PHONE_PLACEHOLDER


def _screen(phone: str, code: str, recovery: str) -> str:
    return f"""<!doctype html><html><body style="font: 16px monospace; margin: 20px">
      <h1>Secure your account</h1>
      <p>We sent a code to <span>{phone}</span></p>
      <input placeholder="{CLASSIC_PHONE_PLACEHOLDER}" value="{phone}" style="width: 300px">
      <input placeholder="{UL_PHONE_PLACEHOLDER}" value="{phone}" style="width: 300px">
      <input placeholder="{CODE_PLACEHOLDER}" value="{code}" style="width: 300px">
      <p>Your recovery code:</p><p><code>{recovery}</code></p>
      <button>Continue</button>
    </body></html>"""


async def test_the_secret_fields_are_painted_over(page: Page) -> None:
    first = _screen("+1 415 555 0123", "482913", "ABCD1234EFGH5678IJKL9012")
    # Same lengths in a monospace font: the masks have the same size, so only what is under them differs.
    second = _screen("+1 212 999 8877", "105577", "ZZZZ9999YYYY8888XXXX7777")
    await page.set_content(first)
    plain_first, masked_first = await page.screenshot(type="png"), await masked_screenshot(page)
    await page.set_content(second)
    plain_second, masked_second = await page.screenshot(type="png"), await masked_screenshot(page)
    assert plain_first != plain_second  # the secrets show without the mask...
    assert masked_first == masked_second  # ...and nothing of them with it


async def test_the_rest_of_the_page_still_shows(page: Page) -> None:
    await page.set_content(_screen("+1 415 555 0123", "482913", "ABCD1234EFGH5678IJKL9012"))
    before = await masked_screenshot(page)
    await page.get_by_role("heading").evaluate("h => h.textContent = 'Something else'")
    assert await masked_screenshot(page) != before
