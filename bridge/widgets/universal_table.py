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
    country_name,
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
# The country picker names the selected region and its calling code: "United States, US, +1" on real
# pages (its accessible name adds "Select country code, currently set to"), "US +1" on older ones.
COUNTRY_PICKER = re.compile(r"\b[A-Z]{2}\s*,?\s*\+\d{1,4}\b|select country code")
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
        # Submits itself by script before the factor screens (ACUL's mfa-detect-browser-capabilities).
        "mfa-detect-browser-capabilities": "interstitial",
    }
)
# Screens with nothing for a person to do: they submit themselves (or wait for one Continue).
PASS_THROUGH = frozenset({"redeem", "interstitial"})

# Universal Login's documented error codes (the text keys of the mfa-sms, mfa-phone and
# mfa-recovery-code prompts, rendered as ``data-error-code`` on real pages) -> outcome codes. Both
# engines read these before any text, so customised and translated texts do not matter.
ERROR_CODES: Mapping[str, OutcomeCode] = MappingProxyType(
    {
        "no-phone": OutcomeCode.INVALID_PHONE_NUMBER,
        "invalid-phone-format": OutcomeCode.INVALID_PHONE_NUMBER,
        "invalid-phone": OutcomeCode.INVALID_PHONE_NUMBER,
        "too-many-sms": OutcomeCode.TOO_MANY_SMS,
        "too-many-voice": OutcomeCode.TOO_MANY_SMS,
        "send-sms-failed": OutcomeCode.ERROR_SENDING_SMS,
        "send-voice-failed": OutcomeCode.ERROR_SENDING_SMS,
        "sms-authenticator-error": OutcomeCode.ERROR_SENDING_SMS,
        "transaction-not-found": OutcomeCode.TRANSACTION_EXPIRED,
        "no-code": OutcomeCode.INVALID_OTP_FORMAT,
        "invalid-otp-code-format": OutcomeCode.INVALID_OTP_FORMAT,
        "invalid-code": OutcomeCode.INVALID_OTP,
        "authenticator-error": OutcomeCode.INVALID_OTP,
        "too-many-failures": OutcomeCode.TOO_MANY_ATTEMPTS,
        # The login prompt's CAPTCHA error; bot detection puts the same field on phone entry.
        "invalid-captcha": OutcomeCode.CAPTCHA_REQUIRED,
    }
)
# The result screen's ``status`` (ACUL's example values) -> None for success, else the outcome code.
RESULT_STATUS: Mapping[str, OutcomeCode | None] = MappingProxyType(
    {
        "success": None,
        "already-used": OutcomeCode.TICKET_USED,
        "expired-ticket": OutcomeCode.TICKET_EXPIRED,
        "invalid-ticket": OutcomeCode.TICKET_INVALID,
        "already-enrolled": OutcomeCode.ALREADY_ENROLLED,
        "failure": OutcomeCode.WIDGET_FAILED,
    }
)
# Hosts and fields of bot-detection challenges: Auth0's own CAPTCHA field (ACUL's ``captcha``) and the
# third-party providers a tenant can pick, which load from hosts outside any allowlist.
CAPTCHA_FIELD = "captcha"
CAPTCHA_LABEL = re.compile(r"code shown above|captcha", re.IGNORECASE)
CAPTCHA_FRAMES = ("recaptcha", "hcaptcha.com", "challenges.cloudflare.com", "arkoselabs.com", "funcaptcha")


@dataclass(frozen=True)
class Fields:
    """The documented form field names the bridge fills or reads."""

    phone: str = "phone"
    code: str = "code"
    saved: str = "saved"
    action: str = "action"
    # mfa-phone-enrollment's channel: radios, or submit buttons, named ``type`` (``sms`` or ``voice``).
    channel: str = "type"


@dataclass(frozen=True)
class Actions:
    """The documented values of the forms' ``action`` buttons."""

    default: str = "default"
    pick_country: str = "pick-country-code"
    resend: str = "resend-code"
    # The begin-enroll-options factors that lead to SMS, in order of preference.
    sms_factors: tuple[str, ...] = ("sms", "phone")
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
    # How many self-submitting screens (redeem, browser checks, unknown ones) are waited through.
    pass_through_hops: int = 4


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
    # mfa-phone-enrollment's channel as submit buttons named ``type`` (a real HAR posts type=sms).
    sms_button: Control
    voice_button: Control
    # A bot-detection challenge on the screen (the bridge cannot answer one).
    captcha: Control
    # A redeem page's or interstitial's one way on.
    pass_through_button: Control
    # The documented action value first (read in one round trip); the role only when it is absent.
    country_picker: Control
    country: CountryMatch
    # A country list row's accessible name: patterns with ``{region}``, ``{dial}`` and ``{name}`` (the
    # country's English name) to fill in, e.g. "United Kingdom (+44)" on real pages.
    country_row_names: tuple[str, ...]
    # Result page texts -> None for success, else the bridge's error code; the first match wins.
    results: tuple[tuple[re.Pattern[str], OutcomeCode | None], ...]
    errors: tuple[ErrorText, ...]
    error_codes: Mapping[str, OutcomeCode] = field(default_factory=lambda: ERROR_CODES)
    result_status: Mapping[str, OutcomeCode | None] = field(default_factory=lambda: RESULT_STATUS)
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
        name = re.escape(country_name(region))
        names = (
            Role("button", re.compile(pattern.format(region=region, dial=dial, name=name)))
            for pattern in self.country_row_names
        )
        return Control((Css(f'button[value="{value}"]'), *names))

    def controls(self) -> dict[str, Control]:
        """Every control of the table by its field name."""
        return {f.name: c for f in fields(self) if isinstance(c := getattr(self, f.name), Control)}


UNIVERSAL = UniversalTable(
    routes=ROUTES,
    path_prefix="/u/",
    route_screens=frozenset({"chooser", "country", "result", *PASS_THROUGH}),
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
    # The documented factor action values first: they survive customised texts.
    sms_factor=Control(
        (
            *(Css(f"button[name={FIELDS.action}][value={f}]") for f in ACTIONS.sms_factors),
            Role("button", SMS_FACTOR),
        )
    ),
    sms_channel=Control((Css(f"input[type=radio][name={FIELDS.channel}][value=sms]"), Role("radio", SMS))),
    voice_channel=Control(
        (Css(f"input[type=radio][name={FIELDS.channel}][value=voice]"), Role("radio", VOICE))
    ),
    resend=Control(
        (
            Css(f"button[name={FIELDS.action}][value={ACTIONS.resend}]"),
            Role("button", RESEND),
            Role("link", RESEND),
        )
    ),
    sms_button=Control(
        (Css(f"button[name={FIELDS.channel}][value=sms]"), Role("button", SMS)), visible_only=True
    ),
    voice_button=Control(
        (Css(f"button[name={FIELDS.channel}][value=voice]"), Role("button", VOICE)), visible_only=True
    ),
    # Auth0's CAPTCHA field by its label (the login prompt's wording), its documented name, or a
    # third-party provider's frame.
    captcha=Control(
        (
            Role("textbox", CAPTCHA_LABEL),
            Css(f"input[name={CAPTCHA_FIELD}]"),
            *(Css(f'iframe[src*="{host}"]') for host in CAPTCHA_FRAMES),
        ),
        visible_only=True,
    ),
    pass_through_button=Control(
        (
            Css(f"button[name={FIELDS.action}][value={ACTIONS.default}]"),
            *SUBMIT_BUTTON.ways,
            Css("button[type=submit]"),
        ),
        visible_only=True,
    ),
    country_picker=Control((Css(f"button[value={ACTIONS.pick_country}]"), Role("button", COUNTRY_PICKER))),
    country=CountryMatch(),
    country_row_names=(r"\b{region}\b.*\+{dial}(?!\d)", r"^\s*{name}\s*\(\+{dial}\)"),
    results=(
        (ALL_SET, None),
        *((e.pattern, e.code) for e in ERROR_TEXTS if e.terminal),
    ),
    errors=ERROR_TEXTS,
)
