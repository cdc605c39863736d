"""The codes a step can end with, each with a fixed explanation (never any of the caller's data)."""

from __future__ import annotations

ERROR_MESSAGES = {
    "invalid_phone_number": "The widget rejected the phone number.",
    "too_many_sms": "The widget refused to send more codes to this number for now.",
    "error_sending_sms": "The widget could not send the code.",
    "invalid_otp": "The widget did not accept the code.",
    "invalid_otp_format": "The widget expects a code of 6 digits.",
    "too_many_attempts": "Too many wrong codes: the widget locked this enrollment.",
    "ticket_invalid": "The enrollment ticket is not valid.",
    "ticket_used": "The enrollment ticket was already used.",
    "ticket_expired": "The enrollment ticket has expired.",
    "already_enrolled": "The user is already enrolled.",
    "transaction_expired": "The widget's enrollment transaction expired.",
    "channel_unsupported": "The widget does not offer this channel.",
    "widget_error": "The widget showed an error.",
    "widget_failed": "The widget showed its failure page; this enrollment cannot go on.",
    "widget_unrecognized": "The page is not an enrollment widget the bridge knows.",
    "widget_timeout": "The widget did not reach its next state in time.",
    "browser_crashed": "The browser went away during the enrollment.",
    "upstream_error": "The widget's server answered with an error.",
    "inbox_timeout": "No code for this enrollment arrived in the OTP inbox in time.",
}
