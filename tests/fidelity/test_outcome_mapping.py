"""What the documented texts and Guardian codes mean to the bridge, without a browser: one mapping that
both engines share (docs/protocol.md#evidence-from-real-pages)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bridge.outcomes import OutcomeCode
from bridge.protocol import pages
from bridge.settings import BridgeSettings
from bridge.widgets import universal_table as ul
from bridge.widgets.classic_table import CLASSIC, customised
from bridge.widgets.controls import Role, Text
from bridge.widgets.texts import classify_api_error, classify_text
from guardian_bridge_fake.texts import DEFAULT_TEXTS

C = OutcomeCode


@pytest.mark.parametrize(
    ("key", "expected", "terminal"),
    [
        ("classic.errorMessages.fieldRequired", C.INVALID_PHONE_NUMBER, False),
        ("classic.errorMessages.invalidToken", C.TICKET_INVALID, True),
        ("classic.errorMessages.default", C.UPSTREAM_ERROR, False),
        ("classic.errorMessages.connectionError", C.UPSTREAM_ERROR, False),
        ("universal.mfa-sms-challenge.error.resend-limit", C.RESEND_LIMIT, False),
        ("universal.mfa-enroll-result.genericError", C.WIDGET_FAILED, True),
    ],
)
def test_documented_texts_map_to_their_outcomes(key: str, expected: OutcomeCode, terminal: bool) -> None:
    entry = classify_text(DEFAULT_TEXTS[key])
    assert entry is not None
    assert (entry.code, entry.terminal) == (expected, terminal)


@pytest.mark.parametrize(
    ("code", "message", "after_start", "expected"),
    [
        ("invalid_token", None, False, C.TICKET_INVALID),  # Guardian.java's body: no message
        ("invalid_token", "The ticket was already used", False, C.TICKET_USED),
        ("invalid_token", "The ticket has expired", False, C.TICKET_EXPIRED),
        ("invalid_token", None, True, C.TRANSACTION_EXPIRED),
        ("transaction_not_found", None, True, C.TRANSACTION_EXPIRED),
        ("login_transaction_not_found", None, True, C.TRANSACTION_EXPIRED),
        ("enrollment_not_found", None, True, C.ENROLLMENT_REMOVED),
        ("device_account_not_found", None, True, C.ENROLLMENT_REMOVED),
        ("feature_disabled", None, False, C.FACTOR_DISABLED),
        ("feature_disabled_by_admin", None, False, C.FACTOR_DISABLED),
        ("enrollment_method_disabled", None, False, C.FACTOR_DISABLED),
        ("no_method_available", None, False, C.FACTOR_DISABLED),
        ("something_new", None, True, C.WIDGET_ERROR),
    ],
)
def test_guardian_codes(code: str, message: str | None, after_start: bool, expected: OutcomeCode) -> None:
    assert classify_api_error(code, message, after_start=after_start) == expected
    if expected is not C.WIDGET_ERROR and expected not in (C.TICKET_USED, C.TICKET_EXPIRED):
        assert expected.terminal


def test_new_codes_say_what_to_do() -> None:
    assert C.CAPTCHA_REQUIRED.terminal
    assert "bot detection" in C.CAPTCHA_REQUIRED.message
    assert not C.RESEND_LIMIT.terminal
    # The lock is not documented as permanent; a missing SMS may be a failed delivery.
    assert "for a while" in C.TOO_MANY_ATTEMPTS.message
    assert "may not have been delivered" in C.INBOX_TIMEOUT.message


def test_both_engines_share_the_universal_login_tables() -> None:
    assert pages.UL_ERROR_CODES is ul.ERROR_CODES
    assert pages.RESULT_STATUS is ul.RESULT_STATUS
    assert "mfa-detect-browser-capabilities" in pages.INTERSTITIALS
    assert ul.ERROR_CODES["invalid-captcha"] is C.CAPTCHA_REQUIRED


def test_a_tenants_own_classic_texts_come_first() -> None:
    table = customised({"sms_choice": "text to my mobile", "congrats": "done!", "invalid_otp": "nope"})
    first = table.sms_choice.ways[0]
    assert isinstance(first, Role)
    assert first.name is not None
    assert not isinstance(first.name, str)
    assert first.name.search("Prefer a TEXT to my mobile")
    assert table.sms_choice.ways[2:] == CLASSIC.sms_choice.ways
    assert isinstance(table.congrats.ways[0], Text)
    entry = classify_text("Nope, try again", table.errors)
    assert entry is not None
    assert entry.code is C.INVALID_OTP
    assert classify_text("Nope, try again") is None  # the defaults alone do not know it


@pytest.mark.parametrize("bad", [{"submit": "go"}, {"congrats": "("}, {"no_such_code": "x"}])
def test_unknown_names_and_bad_patterns_are_refused_at_start(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        BridgeSettings(classic_texts=bad)
