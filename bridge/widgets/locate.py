"""Turns the tables' plain controls into Playwright locators: the one place a table becomes a ``Locator``.

Building a locator costs no round trip to the browser; only acting on it does.
"""

from __future__ import annotations

from playwright.async_api import Locator, Page

from bridge.widgets.controls import Control, Css, Label, Placeholder, Role, Text, Way


def _way(page: Page, way: Way) -> Locator:
    match way:
        case Placeholder(text):
            return page.get_by_placeholder(text)
        case Label(text):
            return page.get_by_label(text)
        case Role(role, None):
            return page.get_by_role(role)
        case Role(role, name):
            return page.get_by_role(role, name=name)
        case Text(pattern):
            return page.get_by_text(pattern)
        case Css(selector):
            return page.locator(selector)


def locators(page: Page, control: Control) -> list[Locator]:
    """One locator per way of finding ``control``, in the table's order."""
    found = [_way(page, way) for way in control.ways]
    return [loc.filter(visible=True) for loc in found] if control.visible_only else found


def locator(page: Page, control: Control) -> Locator:
    """One locator matching any way of finding ``control`` (the single way itself when there is one)."""
    first, *others = locators(page, control)
    for other in others:
        first = first.or_(other)
    return first
