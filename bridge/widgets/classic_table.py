"""What the bridge knows of the Classic Guardian widget: its controls, texts, Guardian API calls and timings.

Texts are the widget's ``languageDictionary`` defaults (docs/protocol.md#classic-texts-and-states); the
widget's markup is not public, so every control is found by a text or role first and by a generic
attribute (never a class name) last. The page object
(``classic.py``) builds its locators from ``CLASSIC`` and has no texts or selectors of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from bridge.outcomes import OutcomeCode
from bridge.widgets.controls import (
    SUBMIT_BUTTON,
    Control,
    CountryMatch,
    Css,
    Label,
    Role,
    Text,
    Way,
    text_input,
)
from bridge.widgets.texts import ANY_ERROR_TEXT, ERROR_TEXTS, GENERIC_INPUT_LABEL, ErrorText

PHONE_PLACEHOLDER = "Your phone number"
PHONE_LABEL = "A code will be sent to this number"
CODE_PLACEHOLDER = "Enter the 6-digit code"
RECOVERY_CONFIRMATION = "I have safely recorded this code"
# Every older published version of the dictionary says "number" (docs/protocol.md#classic-texts-and-states).
RECOVERY_CONFIRMATION_OLDER = "I have safely recorded this number"
CONGRATS = re.compile(r"congratulations|you are all set", re.IGNORECASE)
SMS_CHOICE = re.compile(r"\bSMS\b", re.IGNORECASE)
RESEND = re.compile(r"resend|send (it )?again", re.IGNORECASE)

# The name ``screen_name()`` gives a screen that shows only an error.
ERROR_SCREEN = "error"


@dataclass(frozen=True)
class ClassicApi:
    """The Guardian API calls the widget makes, by the last segment of their path, and the device
    account status of a user who is not enrolled yet (start-flow's answer)."""

    start_flow: str = "start-flow"
    enroll: str = "sms-enroll"
    verify: str = "verify-otp"
    pending_status: str = "confirmation_pending"


@dataclass(frozen=True)
class ClassicTimings:
    # How long after a submit with no API request an unchanged message counts as the widget's answer.
    client_check_grace_s: float = 1.0
    # How often a submit's wait for its API call also looks for a validation message on the page.
    call_poll_s: float = 0.1
    # How long a failed call's message gets to appear on the page before the outcome goes without it.
    message_wait_s: float = 2.0


@dataclass(frozen=True)
class ClassicTable:
    phone_input: Control
    code_input: Control
    sms_choice: Control
    resend: Control
    submit: Control
    # The recovery screen's button when it has no recognisable text: the only visible button.
    any_button: Control
    country_select: Control
    country: CountryMatch
    recovery_checkbox: Control
    congrats: Control
    # Any documented error text wherever the widget puts it (for waiting until one shows).
    error_text: Control
    errors: tuple[ErrorText, ...]
    api: ClassicApi
    timings: ClassicTimings

    @property
    def screens(self) -> tuple[tuple[str, Control], ...]:
        """Which control tells each screen, in the order they are checked (the later steps first)."""
        return (
            ("congrats", self.congrats),
            ("recovery", self.recovery_checkbox),
            ("code", self.code_input),
            ("phone", self.phone_input),
            ("chooser", self.sms_choice),
        )

    def screen_names(self) -> set[str]:
        return {name for name, _ in self.screens} | {ERROR_SCREEN}

    def controls(self) -> dict[str, Control]:
        """Every control of the table by its field name."""
        return {f.name: c for f in fields(self) if isinstance(c := getattr(self, f.name), Control)}


CLASSIC = ClassicTable(
    phone_input=Control(
        (
            *text_input(PHONE_PLACEHOLDER),
            Label(PHONE_LABEL),
            Role("textbox", GENERIC_INPUT_LABEL),
            Css("input[type=tel]"),
        )
    ),
    # Third-party code driving a Classic code screen fills input[name="code"].
    code_input=Control(text_input(CODE_PLACEHOLDER, "input[name=code]", "input[autocomplete=one-time-code]")),
    sms_choice=Control((Role("link", SMS_CHOICE), Role("button", SMS_CHOICE))),
    # The dictionary has no resend text: a named link or button first, else the code screen's one
    # button that is not its submit (an icon, on a widget whose buttons are unnamed).
    resend=Control(
        (Role("link", RESEND), Role("button", RESEND), Css("button[type=button]")), visible_only=True
    ),
    submit=SUBMIT_BUTTON,
    any_button=Control((Role("button"),), visible_only=True),
    country_select=Control((Role("combobox"),), visible_only=True),
    # A dial code may be written with a space after the plus ("+ 44") in an option's text.
    country=CountryMatch(dial=r"\+\s*{dial}(?!\d)"),
    # Both published texts, then the screen's only checkbox (a customised or translated label).
    recovery_checkbox=Control(
        (
            Label(RECOVERY_CONFIRMATION),
            Label(RECOVERY_CONFIRMATION_OLDER),
            Role("checkbox", RECOVERY_CONFIRMATION),
            Role("checkbox", RECOVERY_CONFIRMATION_OLDER),
            Css("input[type=checkbox]"),
        ),
        visible_only=True,
    ),
    congrats=Control((Text(CONGRATS),)),
    error_text=Control((Text(ANY_ERROR_TEXT),)),
    errors=ERROR_TEXTS,
    api=ClassicApi(),
    timings=ClassicTimings(),
)

# The Classic controls a tenant's own texts can be given for (``BRIDGE_CLASSIC_TEXTS``), and error
# outcomes whose texts can be: the widget has no stable hooks besides its texts
# (docs/protocol.md#customised-texts-and-languages).
CUSTOMISABLE = ("phone_input", "code_input", "sms_choice", "resend", "recovery_checkbox", "congrats")


def customised(patterns: Mapping[str, str], table: ClassicTable = CLASSIC) -> ClassicTable:
    """``table`` with a tenant's own texts tried first: control name or outcome code -> a regular
    expression (case-insensitive) of the text the widget shows for it.

    For inputs the pattern is matched against their label or placeholder, for links and buttons
    against their name, for the congratulations against the page's text; an outcome code's pattern
    maps the widget's error text to that outcome.
    """
    changes: dict[str, Any] = {}
    errors: list[ErrorText] = []
    for name, raw in patterns.items():
        pattern = re.compile(raw, re.IGNORECASE)
        if name in ("phone_input", "code_input"):
            ways: tuple[Way, ...] = (Role("textbox", pattern),)
        elif name == "recovery_checkbox":
            ways = (Role("checkbox", pattern),)
        elif name in ("sms_choice", "resend"):
            ways = (Role("link", pattern), Role("button", pattern))
        elif name == "congrats":
            ways = (Text(pattern),)
        elif (code := OutcomeCode.parse(name)) is not None:
            errors.append(ErrorText(pattern, code))
            continue
        else:
            raise ValueError(f"no Classic control or outcome code is called {name!r}")
        control: Control = getattr(table, name)
        changes[name] = replace(control, ways=(*ways, *control.ways))
    if errors:
        changes["errors"] = (*errors, *table.errors)
        everything = "|".join(f"(?:{e.pattern.pattern})" for e in changes["errors"])
        changes["error_text"] = Control((Text(re.compile(everything, re.IGNORECASE)),))
    return replace(table, **changes)
