"""Each kind of widget drift, made through the fake's test controls, is reported and classed correctly.

Every case runs ``guardian-bridge check`` against the committed baseline of its flavour and asserts the
exit code, the sentence in the right part of the text report, and the class in the JUnit file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.check.conftest import CliResult

CASES = [
    pytest.param(
        "classic",
        {"texts": {"classic.smsEnrollmentConfirm.codePlaceholder": "Type the code"}},
        1,
        "breaking",
        [
            "On the screen 'code' (/guardian/enroll), the placeholder \"Enter the 6-digit code\" now reads "
            '"Type the code". The bridge\'s locator for it no longer matches.'
        ],
        id="classic-renamed-placeholder",
    ),
    pytest.param(
        "universal",
        {"texts": {"universal.mfa-sms-enrollment.buttonText": "Proceed"}},
        0,
        "notable",
        ['On the screen \'phone\' (/u/mfa-sms-enrollment), the button "Continue" now reads "Proceed".'],
        # Found by its documented action value (action=default) whatever it says.
        id="universal-renamed-button-found-by-its-action",
    ),
    pytest.param(
        "universal",
        {"texts": {"universal.mfa-sms-enrollment.buttonText": "Next step"}},
        0,
        "notable",
        ['On the screen \'phone\' (/u/mfa-sms-enrollment), the button "Continue" now reads "Next step".'],
        id="universal-renamed-button-the-bridge-still-finds",
    ),
    pytest.param(
        "classic",
        {"extra_response_keys": {"start-flow": {"new_key": 1}}},
        0,
        "notable",
        [
            "The response of POST /guardian/api/start-flow (during the start step) has a new key "
            "'new_key' (integer)."
        ],
        id="classic-added-response-key",
    ),
    pytest.param(
        "classic",
        {"status_overrides": {"sms-enroll": 201}},
        1,
        "breaking",
        [
            "POST /guardian/api/device-accounts/{device_account_id}/sms-enroll (during the phone step) now "
            "answers with status 201 (was 200)."
        ],
        id="classic-changed-status",
    ),
    pytest.param(
        "universal",
        {"status_overrides": {"u/mfa-sms-enrollment": 303}},
        1,
        "breaking",
        ["POST /u/mfa-sms-enrollment (during the phone step) now answers with status 303 (was 302)."],
        id="universal-changed-status",
    ),
    pytest.param(
        "classic",
        {"extra_screen": True},
        1,
        "breaking",
        [
            "The scripted enrollment now ends 'failed' (widget_unrecognized) at the start step; it used to "
            "end 'completed'.",
            "A new screen 'unknown' (/guardian/enroll) is reached (showing: Before you continue, Got it). "
            "The bridge does not recognise it.",
            "No longer reached, because the enrollment stopped earlier: screens: 'phone', 'code', "
            "'recovery', 'congrats'",
        ],
        id="classic-added-screen",
    ),
    pytest.param(
        "universal",
        {"extra_screen": True},
        1,
        "breaking",
        [
            "A new screen 'unknown' (/u/mfa-enroll-notice) is reached "
            "(showing: Before you continue, Got it). The bridge does not recognise it.",
            "POST /guardian/enroll (during the start step) now redirects to "
            "/u/mfa-enroll-notice?state={state} (was /u/mfa-sms-enrollment?state={state}).",
        ],
        id="universal-added-screen",
    ),
    pytest.param(
        "universal",
        {"texts": {"universal.mfa-sms-challenge.error.invalid-code": "Nope"}},
        0,
        "notable",
        ['The widget\'s message for a wrong code now reads "Nope" (was "The code you entered is invalid").'],
        # The error's documented code (data-error-code) still says what it is: only the wording changed.
        id="universal-error-text-read-by-its-code",
    ),
    pytest.param(
        "classic",
        {"texts": {"classic.errorMessages.invalidOtp": "That code is wrong."}},
        0,
        "notable",
        [
            'The widget\'s message for a wrong code now reads "That code is wrong." (was "Seems that your '
            'code is not valid, please check and retry.").'
        ],
        # The Classic widget's outcome comes from the API's errorCode, so only the wording changed.
        id="classic-error-text",
    ),
    pytest.param(
        "universal",
        {"field_names": {"phone": "phone_number"}},
        1,
        "breaking",
        [
            "On the screen 'phone' (/u/mfa-sms-enrollment), the form field 'phone' (text) is now named "
            "'phone_number' (text)."
        ],
        id="universal-renamed-field",
    ),
    pytest.param(
        "classic",
        {"field_names": {"otpCode": "otp"}},
        1,
        "breaking",
        ["On the screen 'code' (/guardian/enroll), the form field 'code' (text) is now named 'otp' (text)."],
        id="classic-renamed-field",
    ),
]


@pytest.mark.browser
@pytest.mark.parametrize(("flavour", "drift", "exit_code", "severity", "sentences"), CASES)
def test_drift_is_reported_and_classed(
    run_cli: Callable[..., CliResult],
    flavour: str,
    drift: dict[str, Any],
    exit_code: int,
    severity: str,
    sentences: list[str],
) -> None:
    result = run_cli(flavour, drift)
    assert result.exit_code == exit_code, result.output
    verdict = result.output.splitlines()[1]
    assert verdict.startswith("BREAKING DRIFT" if exit_code else "PASSED with")
    section = result.section(severity)
    junit = result.junit_texts("failure" if severity == "breaking" else "system-out")
    for sentence in sentences:
        assert sentence in section, result.output
        assert sentence.split(". ", 1)[0] in junit
    if severity == "notable":
        assert "\nBreaking (" not in result.output
        assert result.junit is not None
        assert result.junit.get("failures") == "0"
