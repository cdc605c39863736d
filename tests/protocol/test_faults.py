"""The tenant misbehaving under the protocol engine: 500s, hangs, slowness, going away. Each step ends in
the outcome the browser engine reports for the same fault, never in an exception."""

from __future__ import annotations

from bridge.phone import parse_e164
from bridge.serving import ServerThread
from guardian_bridge_fake.app import create_app as create_fake
from guardian_bridge_fake.harness import FakeTenantClient
from tests.protocol.conftest import PHONE, Opener

PHONE_ENDPOINT = {"classic": "sms-enroll", "universal": "u/mfa-sms-enrollment"}
CODE_ENDPOINT = {"classic": "verify-otp", "universal": "u/mfa-sms-enrollment-verify"}


async def test_a_500_on_the_phone_step(flavour: str, fake: FakeTenantClient, open_driver: Opener) -> None:
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    await driver.ready()
    fake.add_fault(PHONE_ENDPOINT[flavour], error="http_500", times=1)
    failed = await driver.submit_phone(parse_e164(PHONE), "sms")
    if flavour == "classic":
        # Guardian's bare 500: the widget keeps its page and the caller may try again.
        assert (failed.kind, failed.error_code) == ("rejected", "upstream_error")
        assert (await driver.submit_phone(parse_e164(PHONE), "sms")).kind == "ok"
    else:
        # Universal Login's failure page has no form: that flow is over.
        assert (failed.kind, failed.error_code) == ("terminal", "widget_failed")


async def test_a_hanging_tenant_is_a_timeout(
    flavour: str, fake: FakeTenantClient, open_driver: Opener
) -> None:
    driver = await open_driver(fake.create_ticket()["ticket_url"], timeout_s=1.0)
    await driver.ready()
    fake.add_fault(PHONE_ENDPOINT[flavour], error="hang", times=1)
    hung = await driver.submit_phone(parse_e164(PHONE), "sms")
    assert (hung.kind, hung.error_code) == ("rejected", "widget_timeout")
    assert driver.http.cookies() is not None  # the client is still usable after the timeout


async def test_a_slow_tenant_still_completes(
    flavour: str, fake: FakeTenantClient, open_driver: Opener
) -> None:
    fake.add_fault(PHONE_ENDPOINT[flavour], latency_ms=600)
    fake.add_fault(CODE_ENDPOINT[flavour], latency_ms=600)
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    await driver.ready()
    assert (await driver.submit_phone(parse_e164(PHONE), "sms")).kind == "ok"
    assert driver.clock.take_ms() >= 600  # the wait on the tenant is widget time
    assert (await driver.submit_code(fake.latest_code(PHONE))).kind == "ok"


async def test_an_error_sending_the_sms_keeps_the_phone_step(
    flavour: str, fake: FakeTenantClient, open_driver: Opener
) -> None:
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    await driver.ready()
    fake.add_fault(PHONE_ENDPOINT[flavour], error="error_sending_sms", times=1)
    failed = await driver.submit_phone(parse_e164(PHONE), "sms")
    assert (failed.kind, failed.error_code) == ("rejected", "error_sending_sms")
    assert (await driver.submit_phone(parse_e164(PHONE), "sms")).kind == "ok"


async def test_a_500_on_redeem_or_start_flow_ends_the_start(
    flavour: str, fake: FakeTenantClient, open_driver: Opener
) -> None:
    fake.add_fault("start-flow" if flavour == "classic" else "guardian/enroll", error="http_500", times=1)
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    failed = await driver.ready()
    assert failed.kind != "ok"
    assert failed.error_code in ("upstream_error", "widget_failed")


async def test_the_tenant_going_away(open_driver: Opener) -> None:
    for experience, kind in (("classic", "rejected"), ("universal", "terminal")):
        tenant = ServerThread(create_fake(experience=experience))  # type: ignore[arg-type]
        tenant.start()
        fake = FakeTenantClient(tenant.base_url)
        try:
            driver = await open_driver(fake.create_ticket()["ticket_url"], timeout_s=2.0)
            assert (await driver.ready()).kind == "ok"
        finally:
            fake.close()
            tenant.stop()
        gone = await driver.submit_phone(parse_e164(PHONE), "sms")
        assert (gone.kind, gone.error_code) == (kind, "upstream_error")
