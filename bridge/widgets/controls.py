"""How a control on a widget screen is found, as plain data: the ways to find it, in the order tried.

The per-flavour tables (``classic_table.py``, ``universal_table.py``) are built from these types; the page
objects turn them into Playwright locators (``locate.py``) and ``bridge/check/reliance.py`` reads them to
know which screen texts the bridge relies on. Nothing here imports Playwright, so other engines (the
protocol engine) can reuse the same knowledge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

import phonenumbers
from phonenumbers import geocoder

from bridge.widgets.texts import SUBMIT

# A text a locator looks for: a string is a case-insensitive substring (Playwright's default for
# placeholders, labels and accessible names); a pattern is searched as is.
Match = str | re.Pattern[str]
# The ARIA roles the bridge finds controls by (a subset of Playwright's role names).
AriaRole = Literal["alert", "button", "checkbox", "combobox", "link", "radio", "textbox"]


@dataclass(frozen=True)
class Placeholder:
    """An input by its placeholder text."""

    text: str


@dataclass(frozen=True)
class Label:
    """A control by the text of its label."""

    text: str


@dataclass(frozen=True)
class Role:
    """A control by its ARIA role and accessible name (any name when None)."""

    role: AriaRole
    name: Match | None = None


@dataclass(frozen=True)
class Text:
    """An element by the text it shows."""

    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Css:
    """A fallback by markup: a documented form field or attribute, never a class name."""

    selector: str


Way = Placeholder | Label | Role | Text | Css


@dataclass(frozen=True)
class Control:
    """One thing the bridge looks for on a screen; ``ways`` are tried in order, the user-facing first.

    ``visible_only`` keeps only visible matches, so ``.first`` never picks a hidden twin (a page may
    carry a hidden form with the same button).
    """

    ways: tuple[Way, ...]
    visible_only: bool = False

    @property
    def text(self) -> str | None:
        """The placeholder or label a person reads to find it (the first one named), if any."""
        return next((w.text for w in self.ways if isinstance(w, Placeholder | Label)), None)

    def __post_init__(self) -> None:
        if not self.ways:
            raise ValueError("a control needs at least one way to be found")


def text_input(text: str, *css: str) -> tuple[Way, ...]:
    """An input the way a person finds it: by its placeholder or label text, then by markup fallbacks."""
    return (Placeholder(text), Label(text), *(Css(c) for c in css))


@dataclass(frozen=True)
class CountryMatch:
    """How a country is recognised in a picker's or list's texts, for a number's region and dial code.

    Each is a regular expression with ``{region}`` (ISO 3166 alpha-2) and ``{dial}`` (country calling
    code) to fill in; both are letters or digits only, so they need no escaping.
    """

    region: str = r"\b{region}\b"
    dial: str = r"\+{dial}(?!\d)"

    def region_pattern(self, region: str) -> re.Pattern[str]:
        return re.compile(self.region.format(region=region))

    def dial_pattern(self, dial: int | str) -> re.Pattern[str]:
        return re.compile(self.dial.format(dial=dial))


@cache
def country_name(region: str) -> str:
    """A region's English name as a country list shows it (e.g. ``United Kingdom`` for ``GB``)."""
    example = phonenumbers.example_number(region)
    return geocoder.country_name_for_number(example, "en") if example is not None else region


# Buttons that move a screen forward, found by their words (both flavours and the redeem page).
SUBMIT_BUTTON = Control((Role("button", SUBMIT),), visible_only=True)


@dataclass(frozen=True)
class Detection:
    """How long and how often the bridge looks for a flavour's signal after opening a ticket."""

    # A redeem page normally submits itself; one whose script did not run (or that waits for a click,
    # as the no-JavaScript text suggests) gets one click on its Continue button after this long.
    redeem_click_after_s: float = 1.5
    # Both signals are read locally (the recorder's request log and the page's URL), so polling often
    # costs no round trip to the browser and keeps detection close to the moment the signal appears.
    poll_s: float = 0.005
    # Its words first, then the documented default action, then its only submit button.
    redeem_button: Control = Control(
        (*SUBMIT_BUTTON.ways, Css("button[name=action][value=default]"), Css("button[type=submit]")),
        visible_only=True,
    )


DETECTION = Detection()
