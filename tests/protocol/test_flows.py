"""Both flavours end to end on the protocol engine's drivers: the whole flow, every outcome, resend."""

from __future__ import annotations

from bridge.call_log import CallLog
from bridge.phone import parse_e164
from bridge.protocol.driver import ProtocolDriver
from guardian_bridge_fake.harness import FakeTenantClient
from tests.protocol.conftest import PHONE, Opener

CLASSIC_CALLS = ["guardian/enroll", "start-flow", "sms-enroll", "verify-otp"]


def _wrong(code: str) -> str:
    return "".join(str((int(d) + 1) % 10) for d in code)


async def _at_code(fake: FakeTenantClient, open_driver: Opener) -> ProtocolDriver:
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    assert (await driver.ready()).kind == "ok"
    assert (await driver.submit_phone(parse_e164(PHONE), "sms")).kind == "ok"
    return driver


async def test_a_whole_enrollment_hands_out_the_recovery_code_after_the_code(
    flavour: str, fake: FakeTenantClient, open_driver: Opener, calls: CallLog
) -> None:
    ticket = fake.create_ticket()
    driver = await open_driver(ticket["ticket_url"])
    assert driver.flavour.value == flavour
    assert (await driver.ready()).kind == "ok"
    assert await driver.screen_name() == "phone"
    sent = await driver.submit_phone(parse_e164(PHONE), "sms")
    assert (sent.kind, sent.recovery_code) == ("ok", None)
    assert await driver.screen_name() == "code"
    done = await driver.submit_code(fake.latest_code(PHONE))
    assert done.kind == "ok", done
    info = fake.ticket_info(ticket["ticket_id"])
    assert done.recovery_code == info["recovery_code"]
    assert [e["status"] for e in fake.enrollments(info["user_id"])] == ["confirmed"]
    endpoints = [c.endpoint for c in calls.after(0)]
    if flavour == "classic":
        assert endpoints == CLASSIC_CALLS
        start_flow = calls.after(0)[1]
        assert start_flow.auth_scheme == "Ticket"
        assert start_flow.request_body == {"state_transport": "polling"}
        assert calls.after(0)[3].request_body == {"type": "manual_input", "code": "[redacted]"}
    else:
        posts = [c for c in calls.after(0) if c.kind == "form"]
        assert [c.endpoint for c in posts] == [
            "guardian/enroll",
            "u/mfa-sms-enrollment",
            "u/mfa-sms-enrollment-verify",
            "u/mfa-recovery-code-enrollment",
        ]
        assert all(c.status == 302 and c.redirect_to for c in posts)
        assert posts[1].request_body["action"] == "default"
        assert posts[3].request_body["saved"] == "on"


async def test_wrong_code_then_right_code(flavour: str, fake: FakeTenantClient, open_driver: Opener) -> None:
    driver = await _at_code(fake, open_driver)
    code = fake.latest_code(PHONE)
    wrong = await driver.submit_code(_wrong(code))
    assert (wrong.kind, wrong.error_code) == ("rejected", "invalid_otp")
    assert wrong.widget_message
    assert (await driver.submit_code(code)).kind == "ok"


async def test_a_badly_formed_code(flavour: str, fake: FakeTenantClient, open_driver: Opener) -> None:
    driver = await _at_code(fake, open_driver)
    bad = await driver.submit_code("12ab")
    assert (bad.kind, bad.error_code) == ("rejected", "invalid_otp_format")
    assert (await driver.submit_code(fake.latest_code(PHONE))).kind == "ok"


async def test_an_invalid_phone_then_a_valid_one(
    flavour: str, fake: FakeTenantClient, open_driver: Opener
) -> None:
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    await driver.ready()
    rejected = await driver.submit_phone(parse_e164("+15555550100"), "sms")
    assert (rejected.kind, rejected.error_code) == ("rejected", "invalid_phone_number")
    assert "not valid" in (rejected.widget_message or "")
    assert (await driver.submit_phone(parse_e164(PHONE), "sms")).kind == "ok"


async def test_a_number_of_another_country_is_picked_in_the_country_list(
    flavour: str, fake: FakeTenantClient, open_driver: Opener, calls: CallLog
) -> None:
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    await driver.ready()
    uk = "+447911123456"
    assert (await driver.submit_phone(parse_e164(uk), "sms")).kind == "ok"
    assert (await driver.submit_code(fake.latest_code(uk))).kind == "ok"
    if flavour == "universal":
        picked = [c.request_body.get("action") for c in calls.after(0) if c.kind == "form"]
        assert "pick-country-code" in picked
        assert "selection-action::GB44" in picked


async def test_resend_then_too_many_sms(flavour: str, fake: FakeTenantClient, open_driver: Opener) -> None:
    driver = await _at_code(fake, open_driver)
    first = fake.sms(PHONE)[0]
    assert (await driver.resend()).kind == "ok"
    assert fake.sms(PHONE)[0]["id"] != first["id"]
    for _ in range(8):
        assert (await driver.resend()).kind == "ok"
    limited = await driver.resend()
    assert (limited.kind, limited.error_code) == ("rejected", "too_many_sms")
    assert "exceeded" in (limited.widget_message or "")


async def test_too_many_wrong_codes_end_it(flavour: str, fake: FakeTenantClient, open_driver: Opener) -> None:
    driver = await _at_code(fake, open_driver)
    wrong = _wrong(fake.latest_code(PHONE))
    for _ in range(4):
        assert (await driver.submit_code(wrong)).error_code == "invalid_otp"
    locked = await driver.submit_code(wrong)
    assert (locked.kind, locked.error_code) == ("terminal", "too_many_attempts")


async def test_ticket_problems(flavour: str, fake: FakeTenantClient, open_driver: Opener) -> None:
    used = fake.create_ticket()["ticket_url"]
    assert (await (await open_driver(used)).ready()).kind == "ok"
    again = await (await open_driver(used)).ready()
    assert (again.kind, again.error_code) == ("terminal", "ticket_used")
    invalid = await (await open_driver(f"{fake.base_url}/guardian/enroll?ticket=gten_nope")).ready()
    assert (invalid.kind, invalid.error_code) == ("terminal", "ticket_invalid")
    old = fake.create_ticket()["ticket_url"]
    fake.advance_clock(5 * 24 * 3600 + 5)
    expired = await (await open_driver(old)).ready()
    assert (expired.kind, expired.error_code) == ("terminal", "ticket_expired")


async def test_an_enrolled_user(flavour: str, fake: FakeTenantClient, open_driver: Opener) -> None:
    user = fake.add_user()["user_id"]
    driver = await open_driver(fake.create_ticket(user)["ticket_url"])
    await driver.ready()
    await driver.submit_phone(parse_e164(PHONE), "sms")
    assert (await driver.submit_code(fake.latest_code(PHONE))).kind == "ok"
    second = await (await open_driver(fake.create_ticket(user)["ticket_url"])).ready()
    assert (second.kind, second.error_code) == ("terminal", "already_enrolled")


async def test_an_expired_transaction(flavour: str, fake: FakeTenantClient, open_driver: Opener) -> None:
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    await driver.ready()
    fake.advance_clock(3600)
    late = await driver.submit_phone(parse_e164(PHONE), "sms")
    assert (late.kind, late.error_code) == ("terminal", "transaction_expired")


async def test_voice_on_a_tenant_without_it(
    flavour: str, fake: FakeTenantClient, open_driver: Opener
) -> None:
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    await driver.ready()
    voice = await driver.submit_phone(parse_e164(PHONE), "voice")
    assert (voice.kind, voice.error_code) == ("rejected", "channel_unsupported")


async def test_a_factor_chooser_is_passed_by_choosing_sms(
    flavour: str, fake: FakeTenantClient, open_driver: Opener
) -> None:
    fake.settings(enrollment_methods=["sms", "otp"])
    driver = await _at_code(fake, open_driver)
    assert (await driver.submit_code(fake.latest_code(PHONE))).kind == "ok"


async def test_voice_on_the_unified_phone_screen(fake: FakeTenantClient, open_driver: Opener) -> None:
    fake.set_experience("universal")
    fake.settings(enrollment_methods=["sms", "voice"])
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    assert (await driver.ready()).kind == "ok"
    assert (await driver.submit_phone(parse_e164(PHONE), "voice")).kind == "ok"
    message = fake.sms(PHONE)[0]
    assert (await driver.submit_code(message["code"])).kind == "ok"
