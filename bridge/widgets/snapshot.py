"""Reads what a screen offers a person: headings, labels, buttons, links, placeholders, fields, alerts.

Used to record the widget's contract (``guardian-bridge check``); it looks at the rendered page the way
the bridge's locators do (visible text and roles), never at class names.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from bridge.models import ScreenField, ScreenSnapshot
from bridge.redact import RECOVERY_CODE, Redactor

_READ_SCREEN = """
() => {
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== 'hidden';
  // textContent, not innerText: a CSS text-transform is presentation, not a change of wording.
  const text = el => (el.textContent || el.value || el.getAttribute('aria-label') || '')
    .trim().replace(/\\s+/g, ' ');
  const all = sel => Array.from(document.querySelectorAll(sel));
  const texts = sel => all(sel).filter(visible).map(text).filter(Boolean);
  return {
    headings: texts('h1, h2, h3, [role=heading]'),
    labels: texts('label'),
    buttons: texts('button, [role=button], input[type=submit], input[type=button]'),
    links: texts('a[href], [role=link]'),
    placeholders: all('input[placeholder], textarea[placeholder]').filter(visible)
      .map(el => el.getAttribute('placeholder')),
    alerts: texts('[role=alert]'),
    texts: texts('p, legend, [role=status]'),
    fields: all('input[name], select[name], textarea[name]')
      .filter(el => el.type === 'hidden' || visible(el))
      .map(el => ({name: el.getAttribute('name'), type: el.tagName === 'INPUT' ? (el.type || 'text')
        : el.tagName.toLowerCase()})),
  };
}
"""


# Phone numbers in any spacing, codes and recovery codes: personal data or secrets, never contract.
_NUMBERISH = re.compile(r"\+?\d[\d\s().*+-]{4,}\d")


def scrub(text: str) -> str:
    return _NUMBERISH.sub("[number]", RECOVERY_CODE.sub("[recovery-code]", text))


async def read_screen(page: Page, name: str, redactor: Redactor) -> ScreenSnapshot:
    """The screen shown now; texts pass through the enrollment's redactor (a code screen may echo
    the phone number)."""
    try:
        raw: dict[str, Any] = await page.evaluate(_READ_SCREEN)
    except PlaywrightError:
        raw = {}

    def clean(key: str) -> list[str]:
        return [scrub(redactor.text(str(v))) for v in raw.get(key, []) if v]

    path = redactor.text(page.url.split("?", 1)[0].split("#", 1)[0])
    return ScreenSnapshot(
        name=name,
        path="/" + path.split("://", 1)[-1].split("/", 1)[-1] if "://" in path else path,
        headings=clean("headings"),
        labels=clean("labels"),
        buttons=clean("buttons"),
        links=clean("links"),
        placeholders=clean("placeholders"),
        alerts=clean("alerts"),
        texts=clean("texts"),
        fields=[ScreenField(name=str(f["name"]), type=str(f["type"])) for f in raw.get("fields", [])],
    )


async def screenshot_png(page: Page) -> bytes:
    """A PNG of the page now, or empty bytes when it cannot render (never raises)."""
    try:
        return await page.screenshot(type="png", timeout=5000)
    except PlaywrightError:
        return b""
