"""Comparing contracts on hand-made data: every kind of difference and the class it gets."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.check.contract import Contract, ContractScreen, ErrorBehaviour, ErrorProbe
from bridge.check.diff import Difference, breaking, compare
from bridge.check.reliance import locator_breaks
from bridge.models import ScreenField
from tests.check.factories import contract, edit

BASE = contract()


def only(before: Contract, after: Contract) -> Difference:
    differences = compare(before, after)
    assert len(differences) == 1, [d.message for d in differences]
    return differences[0]


def test_identical_contracts_have_no_differences() -> None:
    assert compare(BASE, contract()) == []


def test_timings_are_never_compared_strictly() -> None:
    jitter = {stage: ms * 3 + 900 for stage, ms in BASE.timings.items()}
    assert compare(BASE, BASE.model_copy(update={"timings": jitter})) == []
    slow = {**BASE.timings, "phone": 9000.0}
    d = only(BASE, BASE.model_copy(update={"timings": slow}))
    assert (d.kind, d.severity) == ("slower", "notable")
    assert d.message == "The phone step took 9000 ms (was 300 ms)."


@pytest.mark.parametrize(
    ("change", "kind", "severity", "message"),
    [
        (
            {"screens.1.placeholders": ["Type the code"]},
            "text_changed",
            "breaking",
            "On the screen 'code' (/guardian/enroll), the placeholder \"Enter the 6-digit code\" now reads "
            '"Type the code". The bridge\'s locator for it no longer matches.',
        ),
        (
            {"screens.0.buttons": ["Proceed"]},
            "text_changed",
            "breaking",
            'On the screen \'phone\' (/guardian/enroll), the button "Continue" now reads "Proceed". '
            "The bridge's locator for it no longer matches.",
        ),
        (
            {"screens.0.buttons": ["Continue now"]},
            "text_changed",
            "notable",
            'On the screen \'phone\' (/guardian/enroll), the button "Continue" now reads "Continue now".',
        ),
        (
            {"screens.0.texts": ["Enter your phone to enroll."]},
            "text_changed",
            "notable",
            "On the screen 'phone' (/guardian/enroll), the text "
            '"Please enter your phone in order to enroll." now reads "Enter your phone to enroll.".',
        ),
        (
            {"screens.2.texts": ["Welcome aboard."]},
            "text_changed",
            "breaking",
            "On the screen 'congrats' (/guardian/enroll), the text \"Congratulations, you are all set.\" now "
            'reads "Welcome aboard.". The bridge\'s locator for it no longer matches.',
        ),
        (
            {"screens.0.labels": []},
            "text_removed",
            "breaking",
            "The screen 'phone' (/guardian/enroll) no longer shows the label \"A code will be sent to this "
            "number:\". The bridge's locators rely on it.",
        ),
        (
            {"screens.1.links": ["Help"]},
            "text_added",
            "notable",
            "The screen 'code' (/guardian/enroll) now also shows the link \"Help\".",
        ),
        (
            {"screens.1.fields": [{"name": "otp", "type": "text"}]},
            "field_renamed",
            "breaking",
            "On the screen 'code' (/guardian/enroll), the form field 'otpCode' (text) is now named "
            "'otp' (text).",
        ),
        (
            {"screens.1.fields": [{"name": "otpCode", "type": "number"}]},
            "field_type_changed",
            "breaking",
            "On the screen 'code' (/guardian/enroll), the field 'otpCode' changed type from text to number.",
        ),
        (
            {"screens.1.fields": []},
            "field_removed",
            "breaking",
            "The screen 'code' (/guardian/enroll) no longer has the form field 'otpCode' (text).",
        ),
        (
            {"calls.2.status": 201},
            "status_changed",
            "breaking",
            "POST /guardian/api/device-accounts/{device_account_id}/sms-enroll (during the phone step) now "
            "answers with status 201 (was 200).",
        ),
        (
            {"calls.0.auth": "Bearer"},
            "auth_changed",
            "breaking",
            "POST /guardian/api/start-flow (during the start step) now uses the auth scheme Bearer "
            "(was Ticket).",
        ),
        (
            {"calls.0.response.device_account": {"id": "string"}},
            "response_key_removed",
            "breaking",
            "The response of POST /guardian/api/start-flow (during the start step) no longer has the key "
            "'device_account.n'.",
        ),
        (
            {"calls.0.response.new_key": "integer"},
            "response_key_added",
            "notable",
            "The response of POST /guardian/api/start-flow (during the start step) has a new key 'new_key' "
            "(integer).",
        ),
        (
            {"calls.0.response.transaction_token": "integer"},
            "response_type_changed",
            "breaking",
            "In the response of POST /guardian/api/start-flow (during the start step), "
            "'transaction_token' is now integer (was string).",
        ),
        (
            {"calls.2.request": {}},
            "request_key_removed",
            "notable",
            "The request of POST /guardian/api/device-accounts/{device_account_id}/sms-enroll (during the "
            "phone step) no longer has the key 'phone_number'.",
        ),
        (
            {"errors.invalid_phone.widget_message": "Bad number"},
            "error_text_changed",
            "notable",
            'The widget\'s message for an invalid phone number now reads "Bad number" (was "bad").',
        ),
        (
            {"code_source": "stdin"},
            "code_source",
            "notable",
            "This run took the code from stdin, the baseline from outbox.",
        ),
    ],
)
def test_each_difference_is_reported_and_classed(
    change: dict[str, Any], kind: str, severity: str, message: str
) -> None:
    d = only(BASE, edit(BASE, change))
    assert (d.kind, d.severity, d.message) == (kind, severity, message)


def test_a_new_unknown_screen_is_breaking_and_named_as_unknown() -> None:
    extra = ContractScreen(name="unknown", path="/guardian/enroll", headings=["Before you continue"],
                           buttons=["Got it"])  # fmt: skip
    d = only(BASE, BASE.model_copy(update={"screens": [extra, *BASE.screens]}))
    assert (d.kind, d.severity) == ("screen_added", "breaking")
    assert d.message == (
        "A new screen 'unknown' (/guardian/enroll) is reached (showing: Before you continue, Got it). "
        "The bridge does not recognise it."
    )


def test_removed_screen_and_screen_order() -> None:
    removed = only(BASE, BASE.model_copy(update={"screens": [BASE.screens[0], BASE.screens[2]]}))
    assert (removed.kind, removed.severity) == ("screen_removed", "breaking")
    swapped = only(
        BASE, BASE.model_copy(update={"screens": [BASE.screens[1], BASE.screens[0], BASE.screens[2]]})
    )
    assert (swapped.kind, swapped.severity) == ("screen_order", "breaking")


def test_a_wrong_code_read_as_another_error_is_breaking_and_its_new_text_notable() -> None:
    after = edit(BASE, {"errors.wrong_code": {"outcome": "rejected", "error_code": "widget_error",
                                              "widget_message": "Nope"}})  # fmt: skip
    kinds = {(d.kind, d.severity) for d in compare(BASE, after)}
    assert kinds == {("error_changed", "breaking"), ("error_text_changed", "notable")}


def test_a_stopped_enrollment_is_summarised_once_instead_of_per_missing_item() -> None:
    stopped = BASE.model_copy(
        update={
            "outcome": BASE.outcome.model_copy(
                update={
                    "state": "failed",
                    "error_code": "widget_unrecognized",
                    "steps": ["start -> rejected"],
                }
            ),
            "screens": [ContractScreen(name="unknown", path="/guardian/enroll")],
            "calls": BASE.calls[:1],
            "errors": ErrorBehaviour(invalid_phone=ErrorProbe(outcome="not_reached"),
                                     wrong_code=ErrorProbe(outcome="not_reached")),
            "timings": {"start": 6000.0, "total": 6000.0},
        }
    )  # fmt: skip
    differences = compare(BASE, stopped)
    assert [d.kind for d in differences] == ["outcome_changed", "screen_added", "not_reached", "slower"]
    assert breaking(differences)
    assert differences[0].message == (
        "The scripted enrollment now ends 'failed' (widget_unrecognized) at the start step; "
        "it used to end 'completed'."
    )
    assert differences[2].message.startswith(
        "No longer reached, because the enrollment stopped earlier: screens: 'phone', 'code', 'congrats'; "
        "probes: an invalid phone number, a wrong code; calls: POST /guardian/api/device-accounts/"
    )


def test_a_skipped_wrong_code_probe_is_notable_and_its_step_not_missed() -> None:
    skipped = ErrorProbe(outcome="skipped", note="the bridge submitted the code from its OTP inbox")
    after = BASE.model_copy(
        update={
            "code_source": "inbox",
            "errors": BASE.errors.model_copy(update={"wrong_code": skipped}),
            "calls": [c for c in BASE.calls if c.stage != "wrong code"],
            "outcome": BASE.outcome.model_copy(
                update={"steps": [s for s in BASE.outcome.steps if "wrong" not in s]}
            ),
        }
    )
    differences = compare(BASE, after)
    assert not breaking(differences)
    assert {d.kind for d in differences} == {"code_source", "probe_skipped"}
    probe = next(d for d in differences if d.kind == "probe_skipped")
    assert probe.message == (
        "The answer to a wrong code was not compared: the bridge submitted the code from its OTP inbox."
    )


@pytest.mark.parametrize(
    ("flavour", "kind", "before", "after", "breaks"),
    [
        ("classic", "buttons", "Continue", "Next", False),  # "next" is among the submit words it clicks
        ("classic", "buttons", "Continue", "Go", True),
        ("classic", "buttons", "Resend", "Send again", False),  # Classic's resend locator knows both
        # Universal Login's resend and phone input are found by action value and field name first.
        ("universal", "buttons", "Resend", "Send again", False),
        ("universal", "buttons", "Copy code", "Copy", False),  # no locator reads it
        ("universal", "placeholders", "Enter your phone number", "Enter your phone number here", False),
        ("universal", "placeholders", "Enter your phone number", "Phone", False),
        ("classic", "labels", "I have safely recorded this code", None, True),
        (
            "classic",
            "texts",
            "Seems that your code is not valid, please check and retry.",
            "Wrong code.",
            True,
        ),
        ("universal", "headings", "Secure Your Account", "Protect Your Account", False),
        ("universal", "headings", "You're All Set!", "Done", True),
    ],
)
def test_locator_reliance(flavour: str, kind: str, before: str, after: str | None, breaks: bool) -> None:
    assert locator_breaks(kind, before, after, flavour) is breaks


def test_fields_added_are_notable() -> None:
    fields = [*BASE.screens[1].fields, ScreenField(name="rememberBrowser", type="checkbox")]
    d = only(BASE, edit(BASE, {"screens.1.fields": [f.model_dump() for f in fields]}))
    assert (d.kind, d.severity) == ("field_added", "notable")
