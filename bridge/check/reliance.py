"""What the bridge relies on in the widget's texts: which locator in ``bridge/widgets`` reads which text.

``diff.py`` asks ``locator_breaks`` whether a changed or removed text is one a locator found and would no
longer find. The matchers are derived from the very tables the page objects build their locators from
(``classic_table.CLASSIC``, ``universal_table.UNIVERSAL``), so the check's idea of "relied on" cannot
drift from the bridge's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from bridge.widgets.classic_table import CLASSIC, ClassicTable
from bridge.widgets.controls import Control, Css, Label, Match, Placeholder, Role, Text
from bridge.widgets.universal_table import UNIVERSAL, UniversalTable

Matcher = Callable[[str], bool]

# The kind of screen text (as a contract records it) that a role's accessible name comes from: buttons
# and links are named by their own text, form controls by their label. A role not listed reads no text.
ROLE_TEXT_KINDS = {
    "button": "buttons",
    "link": "links",
    "textbox": "labels",
    "checkbox": "labels",
    "radio": "labels",
    "combobox": "labels",
}

TABLES: dict[str, ClassicTable | UniversalTable] = {"classic": CLASSIC, "universal": UNIVERSAL}

# Screen names the bridge's page objects give (``screen_name()``); anything else is an unknown screen.
KNOWN_SCREENS = {name for table in TABLES.values() for name in table.screen_names()}


def control_texts(control: Control) -> Iterator[tuple[str, Match]]:
    """(kind of screen text, what is looked for) for each way of finding ``control`` that reads a text."""
    for way in control.ways:
        if isinstance(way, Placeholder):
            yield "placeholders", way.text
        elif isinstance(way, Label):
            yield "labels", way.text
        elif isinstance(way, Role) and way.name is not None and way.role in ROLE_TEXT_KINDS:
            yield ROLE_TEXT_KINDS[way.role], way.name
        elif isinstance(way, Text):
            yield "texts", way.pattern


def by_documented_markup(control: Control) -> bool:
    """Whether ``control`` is found by a documented form field name or action value whatever its text
    says (Universal Login's, from the ACUL SDK): its texts are then fallbacks, not relied on."""
    return any(
        isinstance(way, Css) and ("[name=" in way.selector or "[value=" in way.selector)
        for way in control.ways
    )


def table_texts(table: ClassicTable | UniversalTable) -> Iterator[tuple[str, Match]]:
    """Every screen text a flavour's page object relies on: its controls' (on Universal Login, those a
    documented field name or action value does not already find), then its error and result texts
    (searched in the page text, one pattern per outcome)."""
    for control in table.controls().values():
        if isinstance(table, UniversalTable) and by_documented_markup(control):
            continue
        yield from control_texts(control)
    for entry in table.errors:
        yield "texts", entry.pattern
    if isinstance(table, UniversalTable):
        for pattern, _ in table.results:
            yield "texts", pattern


def _matcher(match: Match) -> Matcher:
    if isinstance(match, re.Pattern):
        pattern = match
        return lambda value: bool(pattern.search(value))
    # Playwright's get_by_placeholder / get_by_label / role names with a string: a case-insensitive
    # substring match.
    text = match.lower()
    return lambda value: text in value.lower()


def _by_kind(texts: Iterable[tuple[str, Match]]) -> dict[str, list[Matcher]]:
    kinds: dict[str, list[Matcher]] = {}
    for kind, match in texts:
        kinds.setdefault(kind, []).append(_matcher(match))
    return kinds


# Which locators of each page object read each kind of screen text.
LOCATORS: dict[str, dict[str, list[Matcher]]] = {
    flavour: _by_kind(table_texts(table)) for flavour, table in TABLES.items()
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
