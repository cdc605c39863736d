"""The bridge end to end: the fake tenant over HTTP, both widget flavours, on both engines (a real
Chromium, and the protocol engine)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from guardian_bridge_fake.harness import FakeTenantClient

PHONE = "+14155550123"
GB_PHONE = "+447911123456"


def _step(api: httpx.Client, enrollment_id: str, step: str, **body: Any) -> dict[str, Any]:
    response = api.post(f"/v1/enrollments/{enrollment_id}/{step}", json=body or None)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_happy_path_completes_with_the_fakes_recovery_code(
    flavour: str,
    engine: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    enrollment = start()
    assert enrollment["state"] == "awaiting_phone"
    assert enrollment["flavour"] == flavour
    eid = enrollment["id"]

    after_phone = _step(api, eid, "phone", phone_number=GB_PHONE)
    assert after_phone["state"] == "awaiting_code", after_phone
    assert after_phone["phone_number"] == "+44******3456"

    done = _step(api, eid, "code", code=fake.latest_code(GB_PHONE))
    assert done["state"] == "completed", done
    ticket_id = enrollment["_ticket"]["ticket_id"]
    assert done["recovery_code"] == fake.ticket_info(ticket_id)["recovery_code"]
    assert done["code_attempts"] == 1
    assert [s["name"] for s in done["steps"]] == ["start", "phone", "code"]
    assert all(s["outcome"] == "ok" for s in done["steps"])
    user_id = fake.ticket_info(ticket_id)["user_id"]
    assert [e["phone_number"] for e in fake.enrollments(user_id)] == [GB_PHONE]


def test_phone_given_at_start_goes_straight_to_code(
    flavour: str, engine: str, fake: FakeTenantClient, start: Callable[..., dict[str, Any]]
) -> None:
    enrollment = start(phone_number=PHONE)
    assert enrollment["state"] == "awaiting_code", enrollment
    assert fake.sms(PHONE), "the widget sent no code"


def test_wrong_code_then_right_code(
    flavour: str,
    engine: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    eid = start(phone_number=PHONE)["id"]
    code = fake.latest_code(PHONE)
    rejected = _step(api, eid, "code", code=_wrong(code))
    assert rejected["state"] == "awaiting_code"
    assert rejected["last_error"]["code"] == "invalid_otp"
    assert rejected["last_error"]["widget_message"]
    assert rejected["code_attempts"] == 1
    done = _step(api, eid, "code", code=code)
    assert done["state"] == "completed"
    assert done["last_error"] is None
    assert done["code_attempts"] == 2


def test_invalid_phone_then_valid_phone(
    flavour: str,
    engine: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    eid = start()["id"]
    rejected = _step(api, eid, "phone", phone_number="+15555550100")
    assert rejected["state"] == "awaiting_phone"
    assert rejected["last_error"]["code"] == "invalid_phone_number"
    assert "not valid" in rejected["last_error"]["widget_message"]
    accepted = _step(api, eid, "phone", phone_number=PHONE)
    assert accepted["state"] == "awaiting_code", accepted


def test_too_many_sms_is_an_outcome(
    flavour: str,
    engine: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    eid = start(phone_number=PHONE)["id"]
    for _ in range(9):
        assert _step(api, eid, "resend")["last_error"] is None
    limited = _step(api, eid, "resend")
    assert limited["state"] == "awaiting_code"
    assert limited["last_error"]["code"] == "too_many_sms"
    assert "exceeded" in limited["last_error"]["widget_message"]


def test_resend_sends_a_new_code_that_completes(
    flavour: str,
    engine: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    eid = start(phone_number=PHONE)["id"]
    first = fake.sms(PHONE)[0]
    after = _step(api, eid, "resend")
    assert after["state"] == "awaiting_code"
    latest = fake.sms(PHONE)[0]
    assert latest["id"] != first["id"]
    assert _step(api, eid, "code", code=latest["code"])["state"] == "completed"


def test_error_sending_sms_keeps_the_phone_step_open(
    flavour: str,
    engine: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    eid = start()["id"]
    endpoint = "sms-enroll" if flavour == "classic" else "u/mfa-sms-enrollment"
    fake.add_fault(endpoint, error="error_sending_sms", times=1)
    failed = _step(api, eid, "phone", phone_number=PHONE)
    assert failed["state"] == "awaiting_phone"
    assert failed["last_error"]["code"] == "error_sending_sms"
    assert _step(api, eid, "phone", phone_number=PHONE)["state"] == "awaiting_code"


def test_used_ticket_fails_with_ticket_used(
    flavour: str,
    engine: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    first = start()
    again = api.post("/v1/enrollments", json={"ticket_url": first["_ticket"]["ticket_url"], "engine": engine})
    assert again.status_code == 201, again.text
    body = again.json()
    assert body["state"] == "failed"
    assert body["last_error"]["code"] == "ticket_used"


def test_expired_ticket_fails_with_ticket_expired(
    flavour: str, engine: str, api: httpx.Client, fake: FakeTenantClient
) -> None:
    ticket = fake.create_ticket()
    fake.advance_clock(5 * 24 * 3600 + 5)
    body = api.post("/v1/enrollments", json={"ticket_url": ticket["ticket_url"], "engine": engine}).json()
    assert (body["state"], body["last_error"]["code"]) == ("failed", "ticket_expired")


def test_invalid_ticket_fails_with_ticket_invalid(
    flavour: str, engine: str, api: httpx.Client, fake: FakeTenantClient
) -> None:
    url = f"{fake.base_url}/guardian/enroll?ticket=gten_doesnotexist000000000000"
    body = api.post("/v1/enrollments", json={"ticket_url": url, "engine": engine}).json()
    assert (body["state"], body["last_error"]["code"]) == ("failed", "ticket_invalid")


def test_already_enrolled_user(flavour: str, engine: str, api: httpx.Client, fake: FakeTenantClient) -> None:
    user = fake.add_user()["user_id"]
    first = fake.create_ticket(user)
    body = {"ticket_url": first["ticket_url"], "phone_number": PHONE, "engine": engine}
    eid = api.post("/v1/enrollments", json=body).json()["id"]
    assert _step(api, eid, "code", code=fake.latest_code(PHONE))["state"] == "completed"
    second = fake.create_ticket(user)
    body = api.post("/v1/enrollments", json={"ticket_url": second["ticket_url"], "engine": engine}).json()
    assert (body["state"], body["last_error"]["code"]) == ("failed", "already_enrolled")


def test_too_many_wrong_codes_fail_the_enrollment(
    flavour: str,
    engine: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    eid = start(phone_number=PHONE)["id"]
    wrong = _wrong(fake.latest_code(PHONE))
    for _ in range(4):
        assert _step(api, eid, "code", code=wrong)["last_error"]["code"] == "invalid_otp"
    locked = _step(api, eid, "code", code=wrong)
    assert (locked["state"], locked["last_error"]["code"]) == ("failed", "too_many_attempts")


def test_slow_widget_still_works(
    flavour: str,
    engine: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Callable[..., dict[str, Any]],
) -> None:
    fake.settings(page_delay_ms=1500)
    enrollment = start(phone_number=PHONE)
    assert enrollment["state"] == "awaiting_code"
    assert _step(api, enrollment["id"], "code", code=fake.latest_code(PHONE))["state"] == "completed"
