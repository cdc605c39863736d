"""Universal Login in the shapes public evidence shows real pages in, each switched on and off on the
fake (``PUT /__test/variants``), through the bridge on both engines where the engine has the step.

docs/protocol.md#evidence-from-real-pages cites the evidence for each shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from guardian_bridge_fake.harness import FakeTenantClient
from guardian_bridge_fake.texts import DEFAULT_TEXTS

PHONE = "+14155550123"
GB_PHONE = "+447911123456"

Start = Callable[..., dict[str, Any]]


@pytest.fixture(autouse=True)
def universal(fake: FakeTenantClient) -> None:
    fake.set_experience("universal")


def _post(api: httpx.Client, eid: str, step: str, **body: Any) -> dict[str, Any]:
    response = api.post(f"/v1/enrollments/{eid}/{step}", json=body or None)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _complete(api: httpx.Client, fake: FakeTenantClient, eid: str, phone: str = PHONE) -> dict[str, Any]:
    done = _post(api, eid, "code", code=fake.latest_code(phone))
    assert done["state"] == "completed", done
    return done


def _paths(api: httpx.Client, eid: str) -> list[str]:
    calls = api.get(f"/v1/enrollments/{eid}/calls").json()["calls"]
    return [str(call.get("path")) for call in calls]


@pytest.mark.parametrize("interstitial", [True, False])
def test_browser_capabilities_screen_is_waited_through(
    engine: str, interstitial: bool, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(interstitial=interstitial)
    enrollment = start(phone_number=PHONE)
    assert enrollment["state"] == "awaiting_code", enrollment
    posted = any(p.endswith("/u/mfa-detect-browser-capabilities") for p in _paths(api, enrollment["id"]))
    assert posted is interstitial
    _complete(api, fake, enrollment["id"])


@pytest.mark.parametrize("markup", ["data-error-code", "aria"])
def test_errors_are_read_in_either_markup(
    engine: str, markup: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(error_markup=markup)
    eid = start()["id"]
    rejected = _post(api, eid, "phone", phone_number="+15555550100")
    assert rejected["last_error"]["code"] == "invalid_phone_number"
    assert (
        rejected["last_error"]["widget_message"]
        == DEFAULT_TEXTS["universal.mfa-sms-enrollment.error.invalid-phone"]
    )
    assert _post(api, eid, "phone", phone_number=PHONE)["state"] == "awaiting_code"
    code = fake.latest_code(PHONE)
    wrong = _post(api, eid, "code", code="000000" if code != "000000" else "111111")
    assert wrong["last_error"]["code"] == "invalid_otp"
    assert (
        wrong["last_error"]["widget_message"]
        == DEFAULT_TEXTS["universal.mfa-sms-challenge.error.invalid-code"]
    )
    _complete(api, fake, eid)


def test_error_code_wins_over_a_text_meaning_something_else(
    engine: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    # The wrong-code text now reads like another error: the documented code still says what it is.
    fake.drift(texts={"universal.mfa-sms-challenge.error.invalid-code": "Please enter a code"})
    eid = start(phone_number=PHONE)["id"]
    code = fake.latest_code(PHONE)
    wrong = _post(api, eid, "code", code="000000" if code != "000000" else "111111")
    assert wrong["last_error"]["code"] == "invalid_otp"


@pytest.mark.parametrize("input_type", ["text", "tel"])
def test_phone_input_of_either_type(
    engine: str, input_type: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(phone_input_type=input_type)
    _complete(api, fake, start(phone_number=PHONE)["id"])


def test_country_picker_with_real_pages_names(
    engine: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    enrollment = start(phone_number=GB_PHONE)
    assert enrollment["state"] == "awaiting_code", enrollment
    assert fake.sms(GB_PHONE), "the code went to another country's number"
    _complete(api, fake, enrollment["id"], GB_PHONE)


@pytest.mark.parametrize("limit", [1, None])
def test_resend_limit_is_an_outcome(
    engine: str, limit: int | None, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(resend_limit=limit)
    eid = start(phone_number=PHONE)["id"]
    assert _post(api, eid, "resend")["last_error"] is None
    again = _post(api, eid, "resend")
    if limit is None:
        assert again["last_error"] is None
    else:
        assert (again["state"], again["last_error"]["code"]) == ("awaiting_code", "resend_limit")
        assert "maximum number of resend attempts" in again["last_error"]["widget_message"]
    _complete(api, fake, eid)


@pytest.mark.parametrize("choice", ["radios", "buttons"])
@pytest.mark.parametrize("channel", ["voice", "sms"])
def test_channel_by_radios_or_type_buttons(
    engine: str, choice: str, channel: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.settings(enrollment_methods=["sms", "voice"])
    fake.variants(channel_choice=choice)
    enrollment = start(phone_number=PHONE, channel=channel)
    assert enrollment["state"] == "awaiting_code", enrollment
    [message] = fake.sms(PHONE)
    assert message["message_type"] == channel
    _complete(api, fake, enrollment["id"])


@pytest.mark.parametrize("captcha", [True, False])
def test_captcha_on_phone_entry_ends_clearly(
    engine: str, captcha: bool, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(captcha=captcha)
    enrollment = start(phone_number=PHONE)
    if not captcha:
        assert enrollment["state"] == "awaiting_code"
        return
    assert (enrollment["state"], enrollment["last_error"]["code"]) == ("failed", "captcha_required")
    assert "CAPTCHA" in enrollment["last_error"]["message"]
    assert fake.sms(PHONE) == []


@pytest.mark.parametrize("redeem", ["click", "script"])
def test_redeem_page_that_waits_for_its_button(
    engine: str, redeem: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(redeem=redeem)
    enrollment = start()
    assert enrollment["state"] == "awaiting_phone", enrollment
    assert fake.ticket_info(enrollment["_ticket"]["ticket_id"])["used"] is True


def test_result_read_by_its_status_when_texts_are_custom(
    engine: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    # No default text on the result screen: "success" comes from the screen's stated status.
    fake.variants(texts="custom")
    first = start(phone_number=PHONE)
    _complete(api, fake, first["id"])
    again = api.post(
        "/v1/enrollments", json={"ticket_url": first["_ticket"]["ticket_url"], "engine": engine}
    ).json()
    assert (again["state"], again["last_error"]["code"]) == ("failed", "ticket_used")


@pytest.mark.parametrize("route", ["mfa-enrollment-result", None])
@pytest.mark.parametrize("texts", ["default", "custom"])
def test_result_screen_recognised_at_another_route(
    engine: str, route: str | None, texts: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(result_route=route, texts=texts)
    eid = start(phone_number=PHONE)["id"]
    done = _complete(api, fake, eid)
    assert done["recovery_code"]
