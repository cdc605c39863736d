"""Every code a step can end with: its fixed message, whether it ends the enrollment, its CLI exit class.

``OutcomeCode`` is the one list of these codes; ``Outcome`` is how a widget driver (or any engine)
answers one step. Messages are fixed text, never any of the caller's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Literal


class ExitClass(IntEnum):
    """The exit status ``guardian-bridge enroll`` ends with, by class of result."""

    COMPLETED = 0
    OTHER = 1
    USAGE = 2
    TICKET = 3
    ALREADY_ENROLLED = 4
    CODE = 5
    PHONE = 6
    BRIDGE = 7

    @property
    def description(self) -> str:
        return _EXIT_TEXTS[self]


_EXIT_TEXTS = {
    ExitClass.COMPLETED: "completed",
    ExitClass.OTHER: "any other failure",
    ExitClass.USAGE: "usage error; request refused as invalid or unauthorised",
    ExitClass.TICKET: "ticket invalid, used, expired, or not created; widget transaction expired",
    ExitClass.ALREADY_ENROLLED: "user already enrolled",
    ExitClass.CODE: "code rejected or missing; too many attempts; inbox timeout",
    ExitClass.PHONE: "phone rejected: invalid number, too many SMS, SMS not sent",
    ExitClass.BRIDGE: "bridge unreachable, busy or timed out; widget not recognised or failed; tenant down",
}

_X = ExitClass


class OutcomeCode(StrEnum):
    """A step's result code as the API reports it in ``last_error.code`` and ``steps[].error_code``.

    Each member carries its fixed ``message``, whether it is ``terminal`` (ends the enrollment in
    state ``failed``; the others leave the state as it was so the caller can try again) and the
    ``exit_class`` the CLI ends with when an enrollment ends on it.
    """

    INVALID_PHONE_NUMBER = "invalid_phone_number"
    TOO_MANY_SMS = "too_many_sms"
    ERROR_SENDING_SMS = "error_sending_sms"
    INVALID_OTP = "invalid_otp"
    INVALID_OTP_FORMAT = "invalid_otp_format"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    TICKET_INVALID = "ticket_invalid"
    TICKET_USED = "ticket_used"
    TICKET_EXPIRED = "ticket_expired"
    ALREADY_ENROLLED = "already_enrolled"
    TRANSACTION_EXPIRED = "transaction_expired"
    CHANNEL_UNSUPPORTED = "channel_unsupported"
    WIDGET_ERROR = "widget_error"
    WIDGET_FAILED = "widget_failed"
    WIDGET_UNRECOGNIZED = "widget_unrecognized"
    WIDGET_TIMEOUT = "widget_timeout"
    BROWSER_CRASHED = "browser_crashed"
    BROWSER_UNAVAILABLE = "browser_unavailable"
    UPSTREAM_ERROR = "upstream_error"
    INBOX_TIMEOUT = "inbox_timeout"
    INBOX_AMBIGUOUS = "inbox_ambiguous"
    RESEND_LIMIT = "resend_limit"
    CAPTCHA_REQUIRED = "captcha_required"
    FACTOR_DISABLED = "factor_disabled"
    ENROLLMENT_REMOVED = "enrollment_removed"
    REPLICA_LOST = "replica_lost"
    BRIDGE_SHUTDOWN = "bridge_shutdown"

    @property
    def message(self) -> str:
        return _INFO[self].message

    @property
    def terminal(self) -> bool:
        return _INFO[self].terminal

    @property
    def exit_class(self) -> ExitClass:
        return _INFO[self].exit_class

    @classmethod
    def parse(cls, code: str | None) -> OutcomeCode | None:
        """The member for ``code``; None for no code or one this version does not know."""
        try:
            return cls(code) if code else None
        except ValueError:
            return None


@dataclass(frozen=True)
class _Info:
    message: str
    exit_class: ExitClass
    terminal: bool = False


_C = OutcomeCode
_INFO: dict[OutcomeCode, _Info] = {
    _C.INVALID_PHONE_NUMBER: _Info("The widget rejected the phone number.", _X.PHONE),
    _C.TOO_MANY_SMS: _Info("The widget refused to send more codes to this number for now.", _X.PHONE),
    _C.ERROR_SENDING_SMS: _Info("The widget could not send the code.", _X.PHONE),
    _C.INVALID_OTP: _Info("The widget did not accept the code.", _X.CODE),
    _C.INVALID_OTP_FORMAT: _Info("The widget expects a code of 6 digits.", _X.CODE),
    # How long Auth0 refuses codes after too many wrong ones is not documented (docs/protocol.md#code-lock),
    # so the message does not claim the lock is permanent; this enrollment ends all the same.
    _C.TOO_MANY_ATTEMPTS: _Info(
        "Too many wrong codes: the widget refuses codes for this transaction for a while; "
        "start again later with a new ticket.",
        _X.CODE,
        True,
    ),
    _C.TICKET_INVALID: _Info("The enrollment ticket is not valid.", _X.TICKET, True),
    _C.TICKET_USED: _Info("The enrollment ticket was already used.", _X.TICKET, True),
    _C.TICKET_EXPIRED: _Info("The enrollment ticket has expired.", _X.TICKET, True),
    _C.ALREADY_ENROLLED: _Info("The user is already enrolled.", _X.ALREADY_ENROLLED, True),
    # The widget's transaction ran out: a new ticket is needed, hence the ticket exit class.
    _C.TRANSACTION_EXPIRED: _Info("The widget's enrollment transaction expired.", _X.TICKET, True),
    _C.CHANNEL_UNSUPPORTED: _Info("The widget does not offer this channel.", _X.OTHER),
    _C.WIDGET_ERROR: _Info("The widget showed an error.", _X.OTHER),
    _C.WIDGET_FAILED: _Info(
        "The widget showed its failure page; this enrollment cannot go on.", _X.BRIDGE, True
    ),
    _C.WIDGET_UNRECOGNIZED: _Info("The page is not an enrollment widget the bridge knows.", _X.BRIDGE),
    _C.WIDGET_TIMEOUT: _Info("The widget did not reach its next state in time.", _X.BRIDGE),
    _C.BROWSER_CRASHED: _Info("The browser went away during the enrollment.", _X.BRIDGE),
    # A step that raised browser_unavailable records it; the message is the one it always had.
    _C.BROWSER_UNAVAILABLE: _Info("The widget reported a problem.", _X.BRIDGE),
    _C.UPSTREAM_ERROR: _Info("The widget's server answered with an error.", _X.BRIDGE),
    # Auth0's tenant-level phone provider gives no delivery feedback (docs/protocol.md#delivery-feedback).
    _C.INBOX_TIMEOUT: _Info(
        "No code for this enrollment arrived in the OTP inbox in time; the SMS may not have been "
        "delivered (the widget reports no delivery failures on every phone provider).",
        _X.CODE,
    ),
    _C.INBOX_AMBIGUOUS: _Info(
        "A code for this phone number arrived while other enrollments waited for the same number, and "
        "nothing in it said which; it was not used. Submit the code yourself or resend.",
        _X.CODE,
    ),
    _C.RESEND_LIMIT: _Info("The widget allows no more resends for this code; enter the code sent.", _X.PHONE),
    _C.CAPTCHA_REQUIRED: _Info(
        "The widget asks for a CAPTCHA (bot detection) the bridge cannot answer; turn bot detection "
        "off for enrollment tickets, or enroll this user in a browser.",
        _X.OTHER,
        True,
    ),
    _C.FACTOR_DISABLED: _Info(
        "The tenant does not allow enrolling this factor (SMS disabled or no method available).",
        _X.OTHER,
        True,
    ),
    _C.ENROLLMENT_REMOVED: _Info(
        "The enrollment being confirmed no longer exists on the tenant; start again with a new ticket.",
        _X.TICKET,
        True,
    ),
    # Cluster mode: the replica holding this enrollment's browser stopped answering (bridge.cluster).
    _C.REPLICA_LOST: _Info(
        "The bridge replica running this enrollment's browser went away; start again with a new ticket.",
        _X.BRIDGE,
    ),
    # Graceful drain: the bridge was stopping and the enrollment did not end within the drain timeout.
    _C.BRIDGE_SHUTDOWN: _Info(
        "The bridge shut down before this enrollment ended; start again with a new ticket.", _X.BRIDGE
    ),
}


# The codes as string literals, so a driver may still write ``"invalid_otp"`` and mypy checks the
# spelling; tests/unit keeps it equal to the enum. New code should use ``OutcomeCode`` members.
OutcomeCodeName = Literal[
    "invalid_phone_number",
    "too_many_sms",
    "error_sending_sms",
    "invalid_otp",
    "invalid_otp_format",
    "too_many_attempts",
    "ticket_invalid",
    "ticket_used",
    "ticket_expired",
    "already_enrolled",
    "transaction_expired",
    "channel_unsupported",
    "widget_error",
    "widget_failed",
    "widget_unrecognized",
    "widget_timeout",
    "browser_crashed",
    "browser_unavailable",
    "upstream_error",
    "inbox_timeout",
    "inbox_ambiguous",
    "resend_limit",
    "captcha_required",
    "factor_disabled",
    "enrollment_removed",
    "replica_lost",
    "bridge_shutdown",
]

# Kept for callers that look a message up by code (the CLI's tables, older imports).
ERROR_MESSAGES: dict[str, str] = {code.value: code.message for code in OutcomeCode}
TERMINAL_CODES: frozenset[str] = frozenset(code.value for code in OutcomeCode if code.terminal)


def exit_class_of(code: str | None) -> ExitClass:
    """The exit class of an enrollment that ended with ``code`` (OTHER for none or an unknown one)."""
    known = OutcomeCode.parse(code)
    return known.exit_class if known is not None else ExitClass.OTHER


OutcomeKind = Literal["ok", "rejected", "terminal"]


@dataclass(init=False)
class Outcome:
    """How the widget answered one step. ``rejected`` keeps the state; ``terminal`` ends the enrollment."""

    kind: OutcomeKind
    error_code: OutcomeCode | None
    widget_message: str | None
    recovery_code: str | None

    def __init__(
        self,
        kind: OutcomeKind,
        error_code: OutcomeCode | OutcomeCodeName | None = None,
        widget_message: str | None = None,
        recovery_code: str | None = None,
    ) -> None:
        self.kind = kind
        self.error_code = OutcomeCode(error_code) if error_code is not None else None
        self.widget_message = widget_message
        self.recovery_code = recovery_code

    @classmethod
    def error(cls, code: OutcomeCode | OutcomeCodeName, message: str | None) -> Outcome:
        """A failed step: terminal or rejected as the code says."""
        member = OutcomeCode(code)
        return cls("terminal" if member.terminal else "rejected", member, message)
