"""The outcome codes: every code has a message, a terminal flag and an exit class; classification maps
widget texts and Guardian API errors onto them."""

from __future__ import annotations

import typing

import pytest

from bridge.outcomes import (
    ERROR_MESSAGES,
    TERMINAL_CODES,
    ExitClass,
    Outcome,
    OutcomeCode,
    OutcomeCodeName,
    exit_class_of,
)
from bridge.widgets.texts import API_ERROR_CODES, ERROR_TEXTS, classify_api_error, classify_text


def test_the_literal_names_are_exactly_the_enum() -> None:
    assert set(typing.get_args(OutcomeCodeName)) == {code.value for code in OutcomeCode}


@pytest.mark.parametrize("code", list(OutcomeCode))
def test_every_code_has_a_message_a_terminal_flag_and_an_exit_class(code: OutcomeCode) -> None:
    assert code.message.endswith(".")
    assert code.message[0].isupper()
    assert isinstance(code.terminal, bool)
    assert code.exit_class is not ExitClass.COMPLETED
    assert ERROR_MESSAGES[code.value] == code.message
    assert exit_class_of(code.value) is code.exit_class


def test_terminal_codes_are_the_ones_that_end_an_enrollment() -> None:
    assert {code.value for code in OutcomeCode if code.terminal} == TERMINAL_CODES
    ends = {"widget_failed", "ticket_invalid", "ticket_used", "ticket_expired"}
    ends |= {"already_enrolled", "too_many_attempts", "transaction_expired"}
    assert ends <= TERMINAL_CODES
    keeps = {"invalid_phone_number", "too_many_sms", "error_sending_sms", "invalid_otp"}
    keeps |= {"invalid_otp_format", "channel_unsupported", "widget_timeout", "inbox_timeout"}
    assert not keeps & TERMINAL_CODES


def test_exit_classes_keep_their_numbers() -> None:
    assert {c.name: int(c) for c in ExitClass} == {
        "COMPLETED": 0,
        "OTHER": 1,
        "USAGE": 2,
        "TICKET": 3,
        "ALREADY_ENROLLED": 4,
        "CODE": 5,
        "PHONE": 6,
        "BRIDGE": 7,
    }
    assert all(c.description for c in ExitClass)


def test_unknown_codes_parse_to_none_and_exit_other() -> None:
    assert OutcomeCode.parse("no_such_code") is None
    assert OutcomeCode.parse(None) is None
    assert exit_class_of("no_such_code") is ExitClass.OTHER
    with pytest.raises(ValueError, match="no_such_code"):
        Outcome("rejected", typing.cast(OutcomeCodeName, "no_such_code"))


def test_outcome_error_is_terminal_or_rejected_as_the_code_says() -> None:
    assert Outcome.error("invalid_otp", "nope") == Outcome("rejected", OutcomeCode.INVALID_OTP, "nope")
    terminal = Outcome.error(OutcomeCode.TOO_MANY_ATTEMPTS, None)
    assert terminal.kind == "terminal"
    assert terminal.error_code is OutcomeCode.TOO_MANY_ATTEMPTS


def test_every_widget_text_and_api_error_maps_to_a_code_of_matching_terminality() -> None:
    for entry in ERROR_TEXTS:
        assert OutcomeCode(entry.code).terminal == entry.terminal, entry.code
    assert set(API_ERROR_CODES.values()) <= {c.value for c in OutcomeCode}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The code you entered is invalid", "invalid_otp"),
        ("Too many failed attempts", "too_many_attempts"),
        ("This link is expired", "ticket_expired"),
        ("Something went wrong, please try again later", "widget_failed"),
    ],
)
def test_widget_texts_classify(text: str, code: str) -> None:
    entry = classify_text(text)
    assert entry is not None
    assert entry.code == code


def test_guardian_ticket_errors_are_refined_by_their_message() -> None:
    assert classify_api_error("invalid_token", "Ticket was already used") == "ticket_used"
    assert classify_api_error("invalid_token", "The ticket has expired") == "ticket_expired"
    assert classify_api_error("invalid_token", None) == "ticket_invalid"
    assert classify_api_error("something_new", None) == "widget_error"
    assert classify_api_error(None, None) is None
