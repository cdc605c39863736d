"""The per-flavour locator tables are consistent, reliance covers them, and one recovery-code pattern."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bridge import logs
from bridge.check.reliance import KNOWN_SCREENS, TABLES, control_texts, locator_breaks, table_texts
from bridge.redact import RECOVERY_CODE
from bridge.widgets.classic_table import CLASSIC
from bridge.widgets.controls import Control, Css, Role
from bridge.widgets.snapshot import scrub
from bridge.widgets.texts import ERROR_TEXTS, find_recovery_code
from bridge.widgets.universal_table import UNIVERSAL

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ROOT / "bridge" / "widgets"

# The widgets' default texts (Classic languageDictionary, Universal Login text elements) and error texts,
# by the kind of screen text a contract records them as. Every pattern in the tables must match one.
DEFAULT_TEXTS = {
    "buttons": ["Continue", "Resend", "Send again", "SMS", "US, +1", "Phone", "Voice call", "Text message"],
    "links": ["Resend", "SMS"],
    "labels": ["Voice call", "Text message", "Phone number", "Enter the code shown above"],
    "texts": [
        "Congratulations, you are all set!",
        "You're All Set!",
        "Too many failed attempts.",
        "You have exceeded the amount of SMS for this number.",
        "There was an error sending your code.",
        "The phone number is not valid.",
        "Please enter a phone number.",
        "The code you entered is invalid.",
        "The code must have 6 numeric characters.",
        "We couldn't verify the code.",
        "You are already enrolled.",
        "This link has already been used.",
        "This link is invalid.",
        "This link is expired.",
        "Your transaction expired.",
        "Oops! Something went wrong.",
        "You've reached the maximum number of resend attempts",
        "Seems that you are not authorized to perform this action.",
        "Looks like something went wrong. Please retry.",
    ],
}


def _sample(kind: str, match: str | re.Pattern[str]) -> str:
    if isinstance(match, str):
        return match
    found = [text for text in DEFAULT_TEXTS.get(kind, []) if match.search(text)]
    assert found, f"no default {kind} text matches {match.pattern!r}: add the widget's default text"
    return found[0]


@pytest.mark.parametrize("flavour", list(TABLES))
def test_every_control_can_be_found_the_way_a_person_finds_it(flavour: str) -> None:
    controls = TABLES[flavour].controls()
    assert controls
    for name, control in controls.items():
        people = [w for w in control.ways if not isinstance(w, Css)]
        assert people, f"{flavour}.{name} is found by markup only"
        # The user-facing ways come before markup fallbacks, except a documented action value that is
        # cheaper to match (and is itself documented, not invented markup).
        css_first = isinstance(control.ways[0], Css) and "value=" in control.ways[0].selector
        first_person = control.ways.index(people[0])
        assert css_first or all(not isinstance(w, Css) for w in control.ways[:first_person]), name


def test_a_control_needs_a_way_to_be_found() -> None:
    with pytest.raises(ValueError, match="at least one way"):
        Control(())


@pytest.mark.parametrize("flavour", list(TABLES))
def test_reliance_covers_every_text_the_table_names(flavour: str) -> None:
    texts = list(table_texts(TABLES[flavour]))
    # Universal Login controls are all found by documented field names or action values, so only its
    # error and result texts are relied on; Classic has nothing but texts to go by.
    expected = {"texts"} if flavour == "universal" else {"buttons", "placeholders", "labels", "texts"}
    assert {kind for kind, _ in texts} >= expected
    for kind, match in texts:
        sample = _sample(kind, match)
        assert locator_breaks(kind, sample, None, flavour), (kind, sample)
        # A text the bridge reads is relied on wherever it shows, so headings and alerts count too.
        if kind == "texts":
            assert locator_breaks("headings", sample, None, flavour)


def test_every_named_role_reads_a_kind_of_screen_text() -> None:
    for table in TABLES.values():
        for control in table.controls().values():
            named = [w for w in control.ways if isinstance(w, Role) and w.name is not None]
            assert len(list(control_texts(control))) >= len(named)


def test_the_country_row_control_is_the_documented_value_then_the_name() -> None:
    row = UNIVERSAL.country_row("GB", 44)
    assert row.ways[0] == Css('button[value="selection-action::GB44"]')
    role = row.ways[1]
    assert isinstance(role, Role)
    assert isinstance(role.name, re.Pattern)
    assert role.name.search("United Kingdom, GB, +44")
    assert not role.name.search("United Kingdom, GB, +441")
    # Real pages name a row by the country's name and calling code only.
    by_name = row.ways[2]
    assert isinstance(by_name, Role)
    assert isinstance(by_name.name, re.Pattern)
    assert by_name.name.search("United Kingdom (+44)")
    assert not by_name.name.search("United Kingdom (+441)")


def test_screens_come_from_the_tables() -> None:
    assert {
        "redeem",
        "interstitial",
        "chooser",
        "phone",
        "country",
        "code",
        "recovery",
        "result",
        "congrats",
        "error",
    } == KNOWN_SCREENS
    assert UNIVERSAL.route_screens <= set(UNIVERSAL.routes.values())
    for table in TABLES.values():
        for _, control in table.screens:
            assert control in table.controls().values()
    # A Universal screen told apart by a page read needs a text to tell it by.
    assert all(control.text for _, control in UNIVERSAL.screens)


def test_result_texts_are_success_then_the_terminal_errors() -> None:
    first, *rest = UNIVERSAL.results
    assert first[1] is None
    assert [code for _, code in rest] == [e.code for e in ERROR_TEXTS if e.terminal]
    assert all(code is not None and code.terminal for _, code in rest)


def test_page_objects_build_no_locator_of_their_own() -> None:
    builders = {"get_by_role", "get_by_text", "get_by_label", "get_by_placeholder", "locator"}
    for name in ("classic.py", "universal.py", "detect.py"):
        tree = ast.parse((WIDGETS / name).read_text())
        calls = [
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        ]
        assert not builders & set(calls), name


def test_the_tables_need_no_browser() -> None:
    code = (
        "import sys, bridge.widgets.classic_table, bridge.widgets.universal_table;"
        "print('playwright' in ' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


PLAIN = "ABCD1234EFGH5678IJKL9012"


@pytest.mark.parametrize(
    "text",
    [
        PLAIN,
        f"Your recovery code: {PLAIN}.",
        "ABCD 1234 EFGH 5678 IJKL 9012",
        "ABCD-1234-EFGH-5678-IJKL-9012",
        "code:\nABCD 1234 EFGH-5678 IJKL 9012\n",
    ],
)
def test_the_recovery_pattern_finds_plain_and_grouped_codes(text: str) -> None:
    assert find_recovery_code(text) == PLAIN
    assert "[recovery-code]" in logs.scrub(text)
    assert "[recovery-code]" in scrub(text)


@pytest.mark.parametrize(
    "text",
    [
        PLAIN[:-1],  # 23
        PLAIN + "3",  # 25
        PLAIN.lower(),
        "ABCD 1234 EFGH 5678 IJKL",  # five groups
        "ABCDE 1234 EFGH 5678 IJKL 9012",  # a group of five
        "ABCD_1234_EFGH_5678_IJKL_9012",
        "+14155550123",
        "123456",
        "I have safely recorded this code",
        "x" + PLAIN,
    ],
)
def test_the_recovery_pattern_finds_nothing_else(text: str) -> None:
    assert find_recovery_code(text) is None
    assert RECOVERY_CODE.search(text) is None


def test_there_is_one_recovery_code_pattern_in_the_bridge() -> None:
    shape = re.compile(r"\{24\}")
    holders = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "bridge").rglob("*.py")
        if shape.search(path.read_text())
    ]
    assert holders == ["bridge/redact.py"]


def test_classic_endpoints_are_the_guardian_api_calls() -> None:
    assert (CLASSIC.api.start_flow, CLASSIC.api.enroll, CLASSIC.api.verify) == (
        "start-flow",
        "sms-enroll",
        "verify-otp",
    )
