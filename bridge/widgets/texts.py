"""The widget texts both flavours share: error texts and what they mean, submit words, the recovery code.

Each flavour's own texts, controls and timings are in its table (``classic_table.py``,
``universal_table.py``). Patterns are deliberately loose (case-insensitive, key phrases rather than whole
sentences) so a reworded sentence still matches its meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.outcomes import TERMINAL_CODES as TERMINAL_CODES  # kept importable from here
from bridge.outcomes import OutcomeCode
from bridge.redact import RECOVERY_CODE

# Buttons that move a screen forward, in order of preference.
SUBMIT = re.compile(r"^\s*(continue|next|send( code)?|submit|verify|confirm|enroll)\b", re.IGNORECASE)
GENERIC_INPUT_LABEL = re.compile(r"phone", re.IGNORECASE)


@dataclass(frozen=True)
class ErrorText:
    """A widget error text and the outcome it means."""

    pattern: re.Pattern[str]
    code: OutcomeCode

    @property
    def terminal(self) -> bool:
        return self.code.terminal


def _p(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


# Widget error texts -> the bridge's error codes. Order matters: the first match wins, so the more
# specific phrases come first ("invalid or expired" link is an invalid ticket, not an expired one).
ERROR_TEXTS: tuple[ErrorText, ...] = (
    ErrorText(_p(r"too many failed"), OutcomeCode.TOO_MANY_ATTEMPTS),
    # Seen on a real Universal Login page after many resends (docs/protocol.md#evidence-from-real-pages).
    ErrorText(_p(r"maximum number of resend attempts"), OutcomeCode.RESEND_LIMIT),
    ErrorText(_p(r"exceeded the (amount|maximum number) of (sms|phone messages)"), OutcomeCode.TOO_MANY_SMS),
    ErrorText(
        _p(r"error sending your code|problem sending the sms|couldn.t send the sms"),
        OutcomeCode.ERROR_SENDING_SMS,
    ),
    ErrorText(
        _p(r"phone number is not valid|phone number can only include digits"),
        OutcomeCode.INVALID_PHONE_NUMBER,
    ),
    # Classic's "Please fill out required field." only follows an empty field, which is the phone's
    # when the bridge submits (it never submits an empty code).
    ErrorText(_p(r"enter a phone number|fill out required field"), OutcomeCode.INVALID_PHONE_NUMBER),
    ErrorText(_p(r"code is not valid|code you entered is invalid"), OutcomeCode.INVALID_OTP),
    ErrorText(_p(r"must have 6 numeric|please enter a code"), OutcomeCode.INVALID_OTP_FORMAT),
    ErrorText(_p(r"couldn.t verify the code"), OutcomeCode.INVALID_OTP),
    ErrorText(_p(r"already (been )?enrolled|already been enabled"), OutcomeCode.ALREADY_ENROLLED),
    ErrorText(_p(r"already (been )?used"), OutcomeCode.TICKET_USED),
    # Classic's text for a refused ticket or token.
    ErrorText(_p(r"not authorized to perform this action"), OutcomeCode.TICKET_INVALID),
    ErrorText(
        _p(r"link is invalid|invalid link|enrollment link is invalid"),
        OutcomeCode.TICKET_INVALID,
    ),
    ErrorText(_p(r"link is expired|expired link"), OutcomeCode.TICKET_EXPIRED),
    ErrorText(
        _p(r"transaction expired|not active or has expired|need to start again|timed out"),
        OutcomeCode.TRANSACTION_EXPIRED,
    ),
    # Classic's generic texts ask for a retry: the server failed or could not be reached, which is
    # not the end of the enrollment.
    ErrorText(
        _p(r"looks like something went wrong|cannot contact our server"),
        OutcomeCode.UPSTREAM_ERROR,
    ),
    # Universal Login's generic failure page: the form is gone, so the flow cannot go on.
    ErrorText(_p(r"something went wrong"), OutcomeCode.WIDGET_FAILED),
)

# Any of the texts above, for waiting until a widget shows one of them.
ANY_ERROR_TEXT = re.compile("|".join(f"(?:{e.pattern.pattern})" for e in ERROR_TEXTS), re.IGNORECASE)

# Guardian API errorCode -> the bridge's error code (Classic widget; read from captured responses).
API_ERROR_CODES: dict[str, OutcomeCode] = {
    "invalid_phone_number": OutcomeCode.INVALID_PHONE_NUMBER,
    "too_many_sms": OutcomeCode.TOO_MANY_SMS,
    "too_many_sms_per_tenant": OutcomeCode.TOO_MANY_SMS,
    "error_sending_sms": OutcomeCode.ERROR_SENDING_SMS,
    "invalid_otp": OutcomeCode.INVALID_OTP,
    "invalid_otp_format": OutcomeCode.INVALID_OTP_FORMAT,
    "too_many_failures": OutcomeCode.TOO_MANY_ATTEMPTS,
    "too_many_attempts": OutcomeCode.TOO_MANY_ATTEMPTS,
    "enrollment_conflict": OutcomeCode.ALREADY_ENROLLED,
    "device_account_conflict": OutcomeCode.ALREADY_ENROLLED,
    "transaction_expired": OutcomeCode.TRANSACTION_EXPIRED,
    "enrollment_transaction_not_found": OutcomeCode.TRANSACTION_EXPIRED,
    "transaction_not_found": OutcomeCode.TRANSACTION_EXPIRED,
    "login_transaction_not_found": OutcomeCode.TRANSACTION_EXPIRED,
    "invalid_token": OutcomeCode.TICKET_INVALID,
    # The device account being enrolled is gone (auth0-guardian-js renames the legacy code).
    "enrollment_not_found": OutcomeCode.ENROLLMENT_REMOVED,
    "device_account_not_found": OutcomeCode.ENROLLMENT_REMOVED,
    # The tenant turned the factor off, or offers no method this ticket may enroll.
    "feature_disabled": OutcomeCode.FACTOR_DISABLED,
    "feature_disabled_by_admin": OutcomeCode.FACTOR_DISABLED,
    "enrollment_method_disabled": OutcomeCode.FACTOR_DISABLED,
    "no_method_available": OutcomeCode.FACTOR_DISABLED,
    "auth_method_disabled": OutcomeCode.FACTOR_DISABLED,
}


def classify_text(text: str | None, errors: tuple[ErrorText, ...] = ERROR_TEXTS) -> ErrorText | None:
    if not text:
        return None
    for entry in errors:
        if entry.pattern.search(text):
            return entry
    return None


def classify_api_error(
    error_code: str | None, message: str | None, *, after_start: bool = False
) -> OutcomeCode | None:
    """Maps a Guardian API error to the bridge's code.

    ``invalid_token`` on start-flow is the ticket; told used or expired only by a message, which real
    bodies may not carry (Guardian.java's fixture has none). After start-flow it is the transaction
    token, so the transaction expired (docs/protocol.md#guardian-errors).
    """
    if not error_code:
        return None
    code = API_ERROR_CODES.get(error_code)
    if code is OutcomeCode.TICKET_INVALID and after_start:
        return OutcomeCode.TRANSACTION_EXPIRED
    if code is OutcomeCode.TICKET_INVALID and message:
        lowered = message.lower()
        if "used" in lowered:
            return OutcomeCode.TICKET_USED
        if "expired" in lowered:
            return OutcomeCode.TICKET_EXPIRED
    return code or OutcomeCode.WIDGET_ERROR


def find_recovery_code(text: str) -> str | None:
    """The first recovery code in ``text``, without the spaces or hyphens of a grouped one."""
    match = RECOVERY_CODE.search(text)
    return re.sub(r"[ -]", "", match.group(0)) if match else None
