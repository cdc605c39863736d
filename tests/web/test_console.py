"""The operator console in a real Chromium, against the bridge and the fake tenant: a person's flows."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from guardian_bridge_fake.harness import FakeTenantClient
from tests.hosting import HostedBridge
from tests.web.conftest import INVALID_PHONE, PHONE, TOKEN_A, TOKEN_B, PageWatch, save_screens
from tests.web.console_page import ConsolePage

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


def _newest(api: httpx.Client) -> dict[str, Any]:
    """The token's latest enrollment (the session's bridge keeps earlier tests' finished ones)."""
    enrollments: list[dict[str, Any]] = api.get("/v1/enrollments").json()["enrollments"]
    return max(enrollments, key=lambda e: str(e["created_at"]))


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.fixture(params=["classic", "universal"])
def flavour(request: pytest.FixtureRequest, fake: FakeTenantClient) -> str:
    experience: str = request.param
    fake.set_experience(experience)  # type: ignore[arg-type]
    return experience


async def test_full_enrollment_with_live_steps_screenshot_calls_and_recovery_code(
    flavour: str,
    web_bridge: HostedBridge,
    fake: FakeTenantClient,
    bridge_api: dict[str, httpx.Client],
    watched: tuple[Page, PageWatch],
) -> None:
    page, watch = watched
    console = ConsolePage(page, web_bridge.base_url)
    await console.open(TOKEN_A)
    # Classic starts from a ticket URL, Universal from a user id (the bridge creates that ticket).
    if flavour == "classic":
        await console.start(ticket_url=fake.create_ticket()["ticket_url"])
    else:
        await console.start(user_id=fake.add_user()["user_id"])
    await expect(page.get_by_role("img", name=re.compile("widget's page"))).to_be_visible()

    await console.send_phone(PHONE)
    await console.expect_state("Waiting for the code")
    await console.verify(fake.latest_code(PHONE))
    await console.expect_state("Completed")

    recovery = page.get_by_role("status", name="Recovery code")
    await expect(recovery).to_have_text(re.compile(r"^[A-Z0-9]{20,}$"))
    # Steps arrive from the event stream, each with its timing.
    await expect(console.step_rows()).to_have_count(3)
    for name in ("Open the ticket", "Send the code", "Verify the code"):
        await expect(console.step_rows().filter(has_text=name)).to_contain_text(re.compile(r"ok.*\d+ ms"))
    # The captured calls reach the code's verification (verify-otp, or Universal Login's verify form).
    await expect(console.call_rows().filter(has_text="verify").first).to_be_visible()
    enrollment = _newest(bridge_api[TOKEN_A])
    assert enrollment["state"] == "completed"
    await expect(console.listed().filter(has_text=enrollment["id"])).to_contain_text("Completed")
    await expect(recovery).to_have_text(enrollment["recovery_code"])
    await save_screens(page, f"console-completed-{flavour}")
    # No CSP violation, no script error, and the token never travelled in a URL.
    assert watch.unexpected_errors() == []
    assert not [url for url in watch.urls if TOKEN_A in url]
    assert await page.evaluate("() => sessionStorage.length") == 1
    assert await page.evaluate("() => localStorage.length") == 0


async def test_the_engine_chosen_in_the_console_runs_the_enrollment(
    web_bridge: HostedBridge, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    console = ConsolePage(page, web_bridge.base_url)
    await console.open(TOKEN_A)
    await page.get_by_label("Engine").select_option(label="Protocol (speaks its HTTP calls)")
    await console.start(ticket_url=fake.create_ticket()["ticket_url"])
    await expect(page.get_by_text("protocol engine")).to_be_visible()
    await console.send_phone(PHONE)
    await console.expect_state("Waiting for the code")
    await console.verify(fake.latest_code(PHONE))
    await console.expect_state("Completed")
    await expect(page.get_by_role("status", name="Recovery code")).not_to_be_empty()
    assert _newest(bridge_api[TOKEN_A])["engine"] == "protocol"


async def test_wrong_code_is_shown_with_the_widgets_message_then_corrected(
    web_bridge: HostedBridge, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    console = ConsolePage(page, web_bridge.base_url)
    await console.open(TOKEN_A)
    await console.start(ticket_url=fake.create_ticket()["ticket_url"])
    await console.send_phone(PHONE)
    await console.expect_state("Waiting for the code")
    code = fake.latest_code(PHONE)
    picture = page.get_by_role("img", name=re.compile("widget's page"))
    await expect(picture).to_be_visible()
    before = await picture.get_attribute("src")

    await console.verify(_wrong(code))
    await expect(console.alert).to_contain_text("invalid_otp")
    await expect(console.alert).to_contain_text("The widget says")
    await expect(console.alert).to_contain_text("code is not valid")
    await console.expect_state("Waiting for the code")
    await expect(console.step_rows().filter(has_text="rejected · invalid_otp")).to_have_count(1)
    await expect(console.call_rows().filter(has_text="verify-otp")).to_contain_text("401")
    # The picture of the widget is taken again after the step.
    await expect(picture).not_to_have_attribute("src", before or "")
    await save_screens(page, "console-wrong-code")

    await console.verify(code)
    await console.expect_state("Completed")
    await expect(console.alert).to_be_hidden()
    await expect(page.get_by_role("status", name="Recovery code")).not_to_be_empty()


async def test_invalid_number_is_refused_and_a_valid_one_accepted(
    web_bridge: HostedBridge, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    console = ConsolePage(page, web_bridge.base_url)
    await console.open(TOKEN_A)
    await console.start(ticket_url=fake.create_ticket()["ticket_url"])
    await console.send_phone(INVALID_PHONE)
    await expect(console.alert).to_contain_text("invalid_phone_number")
    await expect(console.alert).to_contain_text("not valid")
    await console.expect_state("Waiting for the phone number")

    await console.send_phone(PHONE)
    await console.expect_state("Waiting for the code")
    await expect(console.alert).to_be_hidden()


async def test_cancel_ends_the_enrollment(
    web_bridge: HostedBridge, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    console = ConsolePage(page, web_bridge.base_url)
    await console.open(TOKEN_A)
    await console.start(ticket_url=fake.create_ticket()["ticket_url"])
    await console.send_phone(PHONE)
    await console.expect_state("Waiting for the code")
    await page.get_by_role("button", name="Cancel").click()
    await console.expect_state("Cancelled")
    await expect(page.get_by_role("button", name="Verify")).to_be_disabled()
    await expect(page.get_by_role("button", name="Cancel")).to_be_disabled()
    enrollment = _newest(bridge_api[TOKEN_A])
    assert enrollment["state"] == "cancelled"
    await expect(console.listed().filter(has_text=enrollment["id"])).to_contain_text("Cancelled")


async def test_an_enrollment_in_the_list_opens(
    web_bridge: HostedBridge, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    created = bridge_api[TOKEN_A].post(
        "/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"], "phone_number": PHONE}
    )
    assert created.status_code == 201, created.text
    console = ConsolePage(page, web_bridge.base_url)
    await console.open(TOKEN_A)
    await page.get_by_role("button", name=f"Open enrollment {created.json()['id']}").click()
    await console.expect_state("Waiting for the code")
    await expect(page.get_by_text(created.json()["id"], exact=False).first).to_be_visible()
    await console.verify(fake.latest_code(PHONE))
    await console.expect_state("Completed")


async def test_another_tokens_enrollments_are_not_listed(
    web_bridge: HostedBridge, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    theirs = bridge_api[TOKEN_B].post(
        "/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"]}
    )
    mine = bridge_api[TOKEN_A].post(
        "/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"]}
    )
    assert theirs.status_code == mine.status_code == 201
    console = ConsolePage(page, web_bridge.base_url)
    await console.open(TOKEN_A)
    await expect(console.listed().filter(has_text=mine.json()["id"])).to_have_count(1)
    await expect(console.listed().filter(has_text=theirs.json()["id"])).to_have_count(0)


async def test_a_wrong_token_is_refused_in_words_and_starts_nothing(
    web_bridge: HostedBridge, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    console = ConsolePage(page, web_bridge.base_url)
    await console.open("not-a-token-of-this-bridge")
    await expect(console.alert).to_contain_text("The bridge refused the API token")
    await page.get_by_label("Ticket URL").fill(fake.create_ticket()["ticket_url"])
    await page.get_by_role("button", name="Start").click()
    await expect(console.alert).to_contain_text("The bridge refused the API token")
    await expect(console.state).to_contain_text("No enrollment open")
    await expect(page.get_by_role("button", name="Start")).to_be_enabled()
