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
    assert len(ERRORS_BY_CODE) == len(set(ERRORS_BY_CODE))
