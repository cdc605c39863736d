"""Both pages checked by axe-core (WCAG 2.1 A/AA and best practices) in each state a person meets, their
keyboard focus order, and screenshots at desktop and phone widths for people to look at."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from guardian_bridge_fake.harness import FakeTenantClient
from tests.hosting import HostedBridge
from tests.web.conftest import INVALID_PHONE, PHONE, TOKEN_A, InApp, axe_violations, save_screens
from tests.web.console_page import ConsolePage

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def _focus_order(page: Page, presses: int) -> list[str]:
    """The id (or text) of each element the Tab key reaches, from the top of the page."""
    await page.locator("body").focus()
    order = []
    for _ in range(presses):
        await page.keyboard.press("Tab")
        order.append(
            await page.evaluate(
                "() => document.activeElement.id || document.activeElement.textContent.trim()"
            )
        )
    return order


async def test_console_is_accessible_in_each_state_and_keyboard_ordered(
    web_bridge: HostedBridge, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    console = ConsolePage(page, web_bridge.base_url)
    await page.goto(f"{web_bridge.base_url}/console")
    assert await axe_violations(page, "console-empty") == []
    engine = ["engine"] if await page.get_by_label("Engine").is_visible() else []
    expected = ["Skip to the enrollment", "token", "ticket-url", "user-id", *engine, "start", "refresh-list"]
    assert await _focus_order(page, len(expected)) == expected
    await save_screens(page, "console-empty")

    await console.open(TOKEN_A)
    await console.start(ticket_url=fake.create_ticket()["ticket_url"])
    await console.send_phone(INVALID_PHONE)
    await expect(console.alert).to_contain_text("invalid_phone_number")
    assert await axe_violations(page, "console-refused") == []
    # Only the controls of the current step are reachable: focus goes from the phone to its button.
    await page.get_by_label("Phone number").focus()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Send code")).to_be_focused()

    await console.send_phone(PHONE)
    await console.expect_state("Waiting for the code")
    await console.verify(fake.latest_code(PHONE))
    await console.expect_state("Completed")
    await expect(console.call_rows().filter(has_text="verify-otp")).to_have_count(1)
    assert await axe_violations(page, "console-completed") == []


async def test_in_app_page_is_accessible_in_each_step_and_keyboard_ordered(
    inapp: InApp, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    await page.goto(inapp.base_url)
    await expect(page.get_by_text("Signed in as")).to_contain_text("Ada Lovelace")
    assert await axe_violations(page, "in-app-off") == []
    await save_screens(page, "in-app-off")
    assert await _focus_order(page, 1) == ["begin"]

    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Mobile phone number")).to_be_focused()
    await page.keyboard.type(INVALID_PHONE)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert")).to_be_visible()
    assert await axe_violations(page, "in-app-phone-refused") == []
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Send code")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Cancel")).to_be_focused()

    await page.get_by_label("Mobile phone number").fill(PHONE)
    await page.get_by_label("Mobile phone number").press("Enter")
    await expect(page.get_by_label("Verification code")).to_be_focused()
    assert await axe_violations(page, "in-app-code") == []
    await save_screens(page, "in-app-code")
    await page.keyboard.type(fake.latest_code(PHONE))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="I have saved it")).to_be_focused()
    assert await axe_violations(page, "in-app-recovery") == []
