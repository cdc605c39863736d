"""A protocol enrollment's state as a value: written out mid-flow, read back, and the flow goes on."""

from __future__ import annotations

from bridge.call_log import CallLog
from bridge.phone import parse_e164
from bridge.protocol.open import resume_protocol
from bridge.protocol.state import ProtocolState
from guardian_bridge_fake.harness import FakeTenantClient
from tests.protocol.conftest import PHONE, Opener, loopback


async def test_an_enrollment_goes_on_from_its_saved_state(
    flavour: str, fake: FakeTenantClient, open_driver: Opener, calls: CallLog
) -> None:
    ticket = fake.create_ticket()
    first = await open_driver(ticket["ticket_url"])
    await first.ready()
    assert (await first.submit_phone(parse_e164(PHONE), "sms")).kind == "ok"
    saved = first.state.to_json()
    await first.close()  # the first client, its cookies and its connections are gone
    assert len(saved) < 4096

    again = await resume_protocol(
        ProtocolState.from_json(saved), policy=loopback(fake.base_url), timeout_s=5.0, sink=calls
    )
    try:
        assert await again.screen_name() == "code"
        assert (await again.resend()).kind == "ok"
        done = await again.submit_code(fake.latest_code(PHONE))
    finally:
        await again.close()
    assert done.kind == "ok", done
    assert done.recovery_code == fake.ticket_info(ticket["ticket_id"])["recovery_code"]


async def test_closing_forgets_the_credentials(
    flavour: str, fake: FakeTenantClient, open_driver: Opener
) -> None:
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    await driver.ready()
    await driver.submit_phone(parse_e164(PHONE), "sms")
    await driver.close()
    state = driver.state
    assert (state.transaction_token, state.recovery_code, state.phone_number, state.form) == (None,) * 4
    assert state.cookies == {}
    assert driver.http.cookies() == {}
