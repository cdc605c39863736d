"""The main enrollment flow on a tenant that customised every text, and on one serving German.

Universal Login is driven by its documented routes, form fields, actions, ``data-error-code`` and the
result status; Classic by its Guardian API calls and the inputs' documented attributes. So neither needs
Auth0's default English texts (docs/protocol.md#customised-texts-and-languages). The flow tests of
``test_enrollment_flow.py`` run again here, both flavours and both engines, with every text customised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from guardian_bridge_fake.harness import FakeTenantClient
from guardian_bridge_fake.text_sets import TEXT_SETS
from tests.api.test_enrollment_flow import (
    PHONE,
    test_already_enrolled_user,
    test_happy_path_completes_with_the_fakes_recovery_code,
    test_phone_given_at_start_goes_straight_to_code,
    test_resend_sends_a_new_code_that_completes,
    test_too_many_wrong_codes_fail_the_enrollment,
    test_used_ticket_fails_with_ticket_used,
    test_wrong_code_then_right_code,
)

# Collected here again, with the tenant's texts customised by the autouse fixture below.
__all__ = [
    "test_already_enrolled_user",
    "test_happy_path_completes_with_the_fakes_recovery_code",
    "test_phone_given_at_start_goes_straight_to_code",
    "test_resend_sends_a_new_code_that_completes",
    "test_too_many_wrong_codes_fail_the_enrollment",
    "test_used_ticket_fails_with_ticket_used",
    "test_wrong_code_then_right_code",
]


@pytest.fixture(autouse=True)
def customised_texts(fake: FakeTenantClient) -> None:
    """Every test of this module runs against a tenant whose every text is its own."""
    fake.variants(texts="custom")


def test_invalid_phone_is_read_without_its_text(
    flavour: str, engine: str, api: httpx.Client, start: Callable[..., dict[str, Any]]
) -> None:
    eid = start()["id"]
    rejected = api.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": "+15555550100"}).json()
    assert (rejected["state"], rejected["last_error"]["code"]) == ("awaiting_phone", "invalid_phone_number")
    custom = TEXT_SETS["custom"]
    shown = {custom[k] for k in custom if k.endswith((".invalidPhoneNumber", ".error.invalid-phone"))}
    assert rejected["last_error"]["widget_message"] in shown


@pytest.mark.parametrize("language", ["de"])
def test_german_pages_enroll(
    flavour: str,
    engine: str,
    language: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    fake.variants(texts=language)
    eid = start(phone_number=PHONE)["id"]
    code = fake.latest_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    rejected = api.post(f"/v1/enrollments/{eid}/code", json={"code": wrong}).json()
    assert rejected["last_error"]["code"] == "invalid_otp"
    done = api.post(f"/v1/enrollments/{eid}/code", json={"code": code}).json()
    assert done["state"] == "completed", done
    assert done["recovery_code"]
