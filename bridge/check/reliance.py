"""What the bridge relies on in the widget's texts: which locator in ``bridge/widgets`` reads which text.

``diff.py`` asks ``locator_breaks`` whether a changed or removed text is one a locator found and would no
longer find; the matchers are built from the very patterns and strings the page objects use
(``bridge/widgets/texts.py``), so the check's idea of "relied on" cannot drift from the bridge's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bridge.widgets import texts as t
from bridge.widgets.universal import RESULT_TEXTS

# Screen names the bridge's page objects give (``screen_name()``); anything else is an unknown screen.
KNOWN_SCREENS = {*t.UL_ROUTES.values(), "congrats", "error"}

Matcher = Callable[[str], bool]


def _contains(text: str) -> Matcher:
    # Playwright's get_by_placeholder / get_by_label with a string: a case-insensitive substring match.
    return lambda value: text.lower() in value.lower()


def _regex(pattern: re.Pattern[str]) -> Matcher:
    return lambda value: bool(pattern.search(value))


_ERRORS = [_regex(e.pattern) for e in t.ERROR_TEXTS]
# Which locators of each page object read each kind of screen text (see widgets/classic.py, universal.py).
LOCATORS: dict[str, dict[str, list[Matcher]]] = {
    "classic": {
        "buttons": [_regex(t.SUBMIT), _regex(t.CLASSIC_RESEND), _regex(t.CLASSIC_SMS_CHOICE)],
        "links": [_regex(t.CLASSIC_RESEND), _regex(t.CLASSIC_SMS_CHOICE)],
        "placeholders": [_contains(t.CLASSIC_PHONE_PLACEHOLDER), _contains(t.CLASSIC_CODE_PLACEHOLDER)],
        "labels": [
            _contains(t.CLASSIC_PHONE_LABEL),
            _contains(t.CLASSIC_CODE_PLACEHOLDER),
            _contains(t.CLASSIC_RECOVERY_CONFIRMATION),
            _regex(t.GENERIC_INPUT_LABEL),
        ],
        "texts": [_regex(t.CLASSIC_CONGRATS), *_ERRORS],
    },
    "universal": {
        "buttons": [
            _regex(t.SUBMIT),
            _regex(t.UL_RESEND),
            _regex(t.UL_SMS_FACTOR),
            _regex(t.UL_COUNTRY_PICKER),
        ],
        "links": [_regex(t.UL_RESEND)],
        "placeholders": [_contains(t.UL_PHONE_PLACEHOLDER), _contains(t.UL_CODE_PLACEHOLDER)],
        "labels": [
            _contains(t.UL_PHONE_PLACEHOLDER),
            _contains(t.UL_CODE_PLACEHOLDER),
            _contains(t.UL_RECOVERY_CHECKBOX),
            _regex(t.GENERIC_INPUT_LABEL),
        ],
        "texts": [*(_regex(p) for p, _ in RESULT_TEXTS), *_ERRORS],
    },
}
# Page text is searched wherever it sits, so headings and alerts count as texts.
_SAME_AS = {"headings": "texts", "alerts": "texts"}


def locator_breaks(kind: str, before: str, after: str | None, flavour: str | None = None) -> bool:
    """Whether a locator of ``flavour`` (either flavour when unknown) that finds ``before`` would no
    longer find ``after`` (None: the text is gone)."""
    flavours = [flavour] if flavour in LOCATORS else list(LOCATORS)
    kind = _SAME_AS.get(kind, kind)
    matchers = [m for f in flavours for m in LOCATORS[f].get(kind, [])]
    return any(m(before) and (after is None or not m(after)) for m in matchers)
