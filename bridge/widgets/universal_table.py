"""What the bridge knows of the Universal Login enrollment pages: routes, form fields, controls, texts.

Routes, form field names and action values are documented (Auth0's Universal Login prompts and the ACUL
SDK's screens: docs/protocol.md#universal-login-routes, #universal-login-forms); texts are the default
text elements (docs/protocol.md#universal-login-texts-and-errors). The page object (``universal.py``)
builds its locators from ``UNIVERSAL``; the data here is plain, so another engine can reuse the routes,
fields and texts without a browser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from bridge.outcomes import OutcomeCode
from bridge.widgets.controls import (
    SUBMIT_BUTTON,
    Control,
    CountryMatch,
    Css,
    Label,
    Role,
    text_input,
)
from bridge.widgets.texts import ERROR_TEXTS, GENERIC_INPUT_LABEL, ErrorText

PHONE_PLACEHOLDER = "Enter your phone number"
CODE_PLACEHOLDER = "Enter the 6-digit code"
RECOVERY_CHECKBOX = "I have safely recorded this code"
RESEND = re.compile(r"^\s*resend\b", re.IGNORECASE)
SMS_FACTOR = re.compile(r"^\s*(SMS|Phone)\b", re.IGNORECASE)
VOICE = re.compile(r"voice", re.IGNORECASE)
SMS = re.compile(r"\b(SMS|text)\b", re.IGNORECASE)
# The country picker's text starts with the selected region and its calling code, e.g. "US, +1".
COUNTRY_PICKER = re.compile(r"^\s*[A-Z]{2}\s*,?\s*\+\d{1,4}\b")
ALL_SET = re.compile(r"all set|successfully added", re.IGNORECASE)

# Route (last path segment) -> the bridge's name for its screen.
ROUTES: Mapping[str, str] = MappingProxyType(
    {
        "redeem-ticket": "redeem",
        "mfa-begin-enroll-options": "chooser",
        "mfa-enroll-options": "chooser",
        "mfa-sms-enrollment": "phone",
        "mfa-phone-enrollment": "phone",
        "mfa-country-codes": "country",
        "mfa-sms-enrollment-verify": "code",
        "mfa-sms-challenge": "code",
        "mfa-recovery-code-enrollment": "recovery",
        "mfa-enroll-result": "result",
    }
)


@dataclass(frozen=True)
class Fields:
    """The documented form field names the bridge fills or reads."""

    phone: str = "phone"
    code: str = "code"
    saved: str = "saved"
    action: str = "action"


@dataclass(frozen=True)
class Actions:
    """The documented values of the forms' ``action`` buttons."""

    default: str = "default"
    pick_country: str = "pick-country-code"
    # A row of the country list; ``{region}`` is the ISO code, ``{dial}`` the calling code.
    select_country: str = "selection-action::{region}{dial}"


FIELDS = Fields()
ACTIONS = Actions()


@dataclass(frozen=True)
class UniversalTimings:
    # How long a redeem page gets to submit itself before the bridge presses its Continue button.
    redeem_wait_s: float = 1.5
    # How often a click's wait for the next document also looks for a message shown without one.
    navigation_poll_s: float = 0.25


@dataclass(frozen=True)
class UniversalTable:
    routes: Mapping[str, str]
    # Every Universal Login page lives under this path; landing on it tells the flavour.
    path_prefix: str
    # Screens told by their route alone (their content has no control the bridge fills).
    route_screens: frozenset[str]
    # Routes whose screen offers a choice of SMS or voice.
    channel_routes: frozenset[str]
    fields: Fields
    actions: Actions
    phone_input: Control
    code_input: Control
    recovery_checkbox: Control
    # The documented default action first: a CSS match costs far less than accessible names.
    continue_button: Control
    sms_factor: Control
    sms_channel: Control
    voice_channel: Control
    resend: Control
    # The documented action value first (read in one round trip); the role only when it is absent.
    country_picker: Control
    country: CountryMatch
    # A country list row's accessible name, a pattern with ``{region}`` and ``{dial}`` to fill in.
    country_row_name: str
    # Result page texts -> None for success, else the bridge's error code; the first match wins.
    results: tuple[tuple[re.Pattern[str], OutcomeCode | None], ...]
    errors: tuple[ErrorText, ...]
    timings: UniversalTimings = field(default_factory=UniversalTimings)

    @property
    def screens(self) -> tuple[tuple[str, Control], ...]:
        """Which control tells each screen the bridge fills in, in the order they are checked."""
        return (
            ("recovery", self.recovery_checkbox),
            ("code", self.code_input),
            ("phone", self.phone_input),
        )

    def screen_names(self) -> set[str]:
        return set(self.routes.values())

    def country_row(self, region: str, dial: int | str) -> Control:
        """The country list's row for a region and calling code: its action value, then its name."""
        value = self.actions.select_country.format(region=region, dial=dial)
        name = re.compile(self.country_row_name.format(region=region, dial=dial))
        return Control((Css(f'button[value="{value}"]'), Role("button", name)))

    def controls(self) -> dict[str, Control]:
        """Every control of the table by its field name."""
        return {f.name: c for f in fields(self) if isinstance(c := getattr(self, f.name), Control)}


UNIVERSAL = UniversalTable(
    routes=ROUTES,
    path_prefix="/u/",
    route_screens=frozenset({"chooser", "country", "result"}),
    channel_routes=frozenset({"mfa-phone-enrollment"}),
    fields=FIELDS,
    actions=ACTIONS,
    phone_input=Control(
        (
            *text_input(PHONE_PLACEHOLDER),
            Role("textbox", GENERIC_INPUT_LABEL),
            Css("input[type=tel]"),
            Css(f"input[name={FIELDS.phone}]"),
        )
    ),
    code_input=Control(
        text_input(
            CODE_PLACEHOLDER,
            f"input#{FIELDS.code}",
            f"input[name={FIELDS.code}]",
            "input[autocomplete=one-time-code]",
        )
    ),
    recovery_checkbox=Control(
        (
            Label(RECOVERY_CHECKBOX),
            Role("checkbox", RECOVERY_CHECKBOX),
            Css(f"input[type=checkbox][name={FIELDS.saved}]"),
        )
    ),
    continue_button=Control(
        (Css(f"button[name={FIELDS.action}][value={ACTIONS.default}]"), *SUBMIT_BUTTON.ways),
        visible_only=True,
    ),
    sms_factor=Control((Role("button", SMS_FACTOR),)),
    sms_channel=Control((Role("radio", SMS),)),
    voice_channel=Control((Role("radio", VOICE),)),
    resend=Control((Role("button", RESEND), Role("link", RESEND))),
    country_picker=Control((Css(f"button[value={ACTIONS.pick_country}]"), Role("button", COUNTRY_PICKER))),
    country=CountryMatch(),
    country_row_name=r"\b{region}\b.*\+{dial}(?!\d)",
    results=(
        (ALL_SET, None),
        *((e.pattern, e.code) for e in ERROR_TEXTS if e.terminal),
    ),
    errors=ERROR_TEXTS,
)
