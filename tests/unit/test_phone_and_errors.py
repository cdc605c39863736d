"""Phone parsing for the widgets' country selectors, and the error tree's codes."""

from __future__ import annotations

import pytest

from bridge.errors import ERRORS_BY_CODE, BridgeError, InvalidRequestError, SessionLimitError, error_for_code
from bridge.phone import mask, parse_e164


def test_parse_gives_region_and_national_digits() -> None:
    phone = parse_e164("+44 7911 123456")
    assert (phone.e164, phone.country_code, phone.national) == ("+447911123456", 44, "7911123456")
    assert "GB" in phone.regions
    us = parse_e164("+14155550123")
    assert (us.region, us.national, us.regions) == ("US", "4155550123", ["US"])


@pytest.mark.parametrize("raw", ["2025550143", "+", "+0123456", "+1 (202) abc", "+99912345678"])
def test_non_e164_is_a_request_error(raw: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        parse_e164(raw)
    if len(raw) > 3:  # the input never comes back in the message
        assert raw not in info.value.message


def test_mask_keeps_country_code_and_last_four() -> None:
    assert mask("+14155550123") == "+1******0123"
    assert mask("+447911123456") == "+44******3456"


def test_every_code_maps_back_to_its_class() -> None:
    assert error_for_code("session_limit") is SessionLimitError
    assert error_for_code("something_new") is BridgeError
    statuses = {cls.code: cls.status for cls in ERRORS_BY_CODE.values()}
    assert statuses["widget_timeout"] == 504
    assert statuses["enrollment_expired"] == 410


def _subclasses(cls: type[BridgeError]) -> list[type[BridgeError]]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def test_no_two_error_classes_share_a_code() -> None:
    # ERRORS_BY_CODE is keyed by code, so a class of the error tree reusing another's code would silently
    # shadow it there. (Internal refinements elsewhere, such as the protocol engine's refused hop, may
    # share their parent's code on purpose: they are reported as it.)
    served = [cls for cls in _subclasses(BridgeError) if cls.__module__ == "bridge.errors"]
    codes = [cls.code for cls in served]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    assert all(ERRORS_BY_CODE[cls.code] is cls for cls in served)


def test_the_cli_exit_code_of_every_outcome_code_is_its_exit_class() -> None:
    # One place: the command line takes each code's exit class from bridge.outcomes, never a table of its own.
    from bridge.cli.enroll import exit_code_for
    from bridge.models import Enrollment, EnrollmentState, LastError
    from bridge.outcomes import ExitClass, OutcomeCode

    now = "2026-01-01T00:00:00Z"
    for code in [*OutcomeCode, "a_code_from_a_newer_bridge"]:
        failed = Enrollment.model_validate(
            {
                "id": "e",
                "state": EnrollmentState.FAILED,
                "created_at": now,
                "updated_at": now,
                "expires_at": now,
                "last_error": LastError(code=code, message="m").model_dump(),
            }
        )
        expected = code.exit_class if isinstance(code, OutcomeCode) else ExitClass.OTHER
        assert exit_code_for(failed) is expected, code
