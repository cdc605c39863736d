"""What the bridge knows of the widget's user-facing texts, by flavour, from Auth0's documented defaults.

Every locator in ``widgets/`` is built from these texts and from ARIA roles; the real widget's markup is
not public, so class names are never relied on. Patterns are deliberately loose (case-insensitive,
key phrases rather than whole sentences) so a reworded sentence still matches its meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.outcomes import TERMINAL_CODES as TERMINAL_CODES  # kept importable from here
from bridge.outcomes import OutcomeCodeName

# --- Classic widget (languageDictionary defaults) ---
CLASSIC_PHONE_PLACEHOLDER = "Your phone number"
CLASSIC_PHONE_LABEL = "A code will be sent to this number"
CLASSIC_CODE_PLACEHOLDER = "Enter the 6-digit code"
CLASSIC_RECOVERY_CONFIRMATION = "I have safely recorded this code"
CLASSIC_CONGRATS = re.compile(r"congratulations|you are all set", re.IGNORECASE)
CLASSIC_SMS_CHOICE = re.compile(r"\bSMS\b", re.IGNORECASE)
CLASSIC_RESEND = re.compile(r"resend|send (it )?again", re.IGNORECASE)

# --- Universal Login (text elements defaults) ---
UL_PHONE_PLACEHOLDER = "Enter your phone number"
UL_CODE_PLACEHOLDER = "Enter the 6-digit code"
UL_RECOVERY_CHECKBOX = "I have safely recorded this code"
UL_RESEND = re.compile(r"^\s*resend\b", re.IGNORECASE)
UL_SMS_FACTOR = re.compile(r"^\s*(SMS|Phone)\b", re.IGNORECASE)
UL_VOICE = re.compile(r"voice", re.IGNORECASE)
UL_SMS = re.compile(r"\b(SMS|text)\b", re.IGNORECASE)
UL_COUNTRY_PICKER = re.compile(r"^\s*[A-Z]{2}\s*,?\s*\+\d{1,4}\b")

# Buttons that move a screen forward, in order of preference.
SUBMIT = re.compile(r"^\s*(continue|next|send( code)?|submit|verify|confirm|enroll)\b", re.IGNORECASE)
GENERIC_INPUT_LABEL = re.compile(r"phone", re.IGNORECASE)

# Universal Login routes (documented: reference section 4.1).
UL_ROUTES = {
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

# The recovery code is 24 letters and digits (auth0-guardian.js RECOVERY_CODE_LENGTH); a page may group it.
RECOVERY_CODE = re.compile(r"\b([A-Z0-9]{24})\b")
RECOVERY_CODE_GROUPED = re.compile(r"\b((?:[A-Z0-9]{4}[ -]){5}[A-Z0-9]{4})\b")


@dataclass(frozen=True)
class ErrorText:
    pattern: re.Pattern[str]
    code: OutcomeCodeName
    terminal: bool = False


def _p(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


# Widget error texts -> the bridge's error codes. Order matters: the first match wins, so the more
# specific phrases come first ("invalid or expired" link is an invalid ticket, not an expired one).
ERROR_TEXTS: tuple[ErrorText, ...] = (
    ErrorText(_p(r"too many failed"), "too_many_attempts", terminal=True),
    ErrorText(_p(r"exceeded the (amount|maximum number) of (sms|phone messages)"), "too_many_sms"),
    ErrorText(
        _p(r"error sending your code|problem sending the sms|couldn.t send the sms"),
        "error_sending_sms",
    ),
    ErrorText(
        _p(r"phone number is not valid|phone number can only include digits"),
        "invalid_phone_number",
    ),
    ErrorText(_p(r"enter a phone number|this field is required"), "invalid_phone_number"),
    ErrorText(_p(r"code is not valid|code you entered is invalid"), "invalid_otp"),
    ErrorText(_p(r"must have 6 numeric|please enter a code"), "invalid_otp_format"),
    ErrorText(_p(r"couldn.t verify the code"), "invalid_otp"),
    ErrorText(_p(r"already (been )?enrolled|already been enabled"), "already_enrolled", terminal=True),
    ErrorText(_p(r"already (been )?used"), "ticket_used", terminal=True),
    ErrorText(
        _p(r"link is invalid|invalid link|enrollment link is invalid"),
        "ticket_invalid",
        terminal=True,
    ),
    ErrorText(_p(r"link is expired|expired link"), "ticket_expired", terminal=True),
    ErrorText(
        _p(r"transaction expired|not active or has expired|need to start again|timed out"),
        "transaction_expired",
        terminal=True,
    ),
    # Universal Login's generic failure page: the form is gone, so the flow cannot go on.
    ErrorText(_p(r"something went wrong"), "widget_failed", terminal=True),
)

# Any of the texts above, for waiting until a widget shows one of them.
ANY_ERROR_TEXT = re.compile("|".join(f"(?:{e.pattern.pattern})" for e in ERROR_TEXTS), re.IGNORECASE)

# Guardian API errorCode -> the bridge's error code (Classic widget; read from captured responses).
API_ERROR_CODES: dict[str, OutcomeCodeName] = {
    "invalid_phone_number": "invalid_phone_number",
    "too_many_sms": "too_many_sms",
    "too_many_sms_per_tenant": "too_many_sms",
    "error_sending_sms": "error_sending_sms",
    "invalid_otp": "invalid_otp",
    "invalid_otp_format": "invalid_otp_format",
    "too_many_failures": "too_many_attempts",
    "too_many_attempts": "too_many_attempts",
    "enrollment_conflict": "already_enrolled",
    "device_account_conflict": "already_enrolled",
    "transaction_expired": "transaction_expired",
    "enrollment_transaction_not_found": "transaction_expired",
    "invalid_token": "ticket_invalid",
}


def classify_text(text: str | None) -> ErrorText | None:
    if not text:
        return None
    for entry in ERROR_TEXTS:
        if entry.pattern.search(text):
            return entry
    return None


def classify_api_error(error_code: str | None, message: str | None) -> OutcomeCodeName | None:
    """Maps a Guardian API error to the bridge's code; ticket errors are refined by their message."""
    if not error_code:
        return None
    code = API_ERROR_CODES.get(error_code)
    if code == "ticket_invalid" and message:
        lowered = message.lower()
        if "used" in lowered:
            return "ticket_used"
        if "expired" in lowered:
            return "ticket_expired"
    return code or "widget_error"


def find_recovery_code(text: str) -> str | None:
    match = RECOVERY_CODE.search(text)
    if match:
        return match.group(1)
    grouped = RECOVERY_CODE_GROUPED.search(text)
    return re.sub(r"[ -]", "", grouped.group(1)) if grouped else None
