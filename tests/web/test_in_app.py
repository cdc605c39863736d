"""The in-app example (examples/in-app/) in a real Chromium: a signed-in user sets up SMS verification
inside the app's own page, with the code read from the fake tenant's outbox."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, Response, expect

from guardian_bridge_fake.harness import FakeTenantClient
from tests.web.conftest import INVALID_PHONE, PHONE, TOKEN_A, InApp, PageWatch, save_screens

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


class Bodies:
    """Every body the browser received from the app, to prove what it never saw."""

    def __init__(self, page: Page) -> None:
        self.texts: list[str] = []
        page.on("response", self._keep)

    async def _keep(self, response: Response) -> None:
        if response.request.resource_type in ("fetch", "xhr", "document"):
            self.texts.append(await response.text())


async def _set_up_phone(page: Page, inapp: InApp, phone: str) -> None:
    await page.goto(inapp.base_url)
    await expect(page.get_by_text("Signed in as")).to_contain_text("Ada Lovelace")
    await page.get_by_role("button", name="Set up SMS verification").click()
    await page.get_by_label("Mobile phone number").fill(phone)
    await page.get_by_role("button", name="Send code").click()


async def _verify(page: Page, code: str) -> None:
    await page.get_by_label("Verification code").fill(code)
    await page.get_by_role("button", name="Verify").click()


async def test_happy_path_ends_with_the_recovery_code_and_verification_on(
    inapp: InApp, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], watched: tuple[Page, PageWatch]
) -> None:
    page, watch = watched
    bodies = Bodies(page)
    await _set_up_phone(page, inapp, PHONE)
    await expect(page.get_by_text("We texted a code to")).to_contain_text("+1******0123")
    await _verify(page, fake.latest_code(PHONE))

    recovery = page.get_by_role("status", name="Save your recovery code")
    await expect(recovery).to_have_text(re.compile(r"^[A-Z0-9]{20,}$"))
    await save_screens(page, "in-app-recovery")
    await page.get_by_role("button", name="I have saved it").click()
    await expect(page.get_by_text("Text message verification is on")).to_contain_text("+1******0123")
    await save_screens(page, "in-app-done")

    # The tenant has the factor for exactly this user.
    assert [e["status"] for e in fake.enrollments(inapp.user_id)] == ["confirmed"]
    # The browser saw no bridge token, no ticket and no enrollment id.
    seen = "\n".join(bodies.texts) + "".join(watch.urls)
    assert TOKEN_A not in seen
    assert "ticket" not in seen
    assert "enr_" not in seen
    assert watch.unexpected_errors() == []


async def test_wrong_code_gets_a_friendly_message_then_the_right_code_works(
    inapp: InApp, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    await _set_up_phone(page, inapp, PHONE)
    await expect(page.get_by_label("Verification code")).to_be_visible()
    code = fake.latest_code(PHONE)
    await _verify(page, "000000" if code != "000000" else "111111")
    await expect(page.get_by_role("alert")).to_have_text(re.compile("That code isn't right"))
    await expect(page.get_by_label("Verification code")).to_be_focused()
    await save_screens(page, "in-app-wrong-code")

    await _verify(page, code)
    await expect(page.get_by_role("alert")).to_be_hidden()
    await expect(page.get_by_role("button", name="I have saved it")).to_be_visible()


async def test_invalid_number_gets_a_friendly_message_then_a_valid_one_works(
    inapp: InApp, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    await _set_up_phone(page, inapp, INVALID_PHONE)
    await expect(page.get_by_role("alert")).to_have_text(re.compile("That number can't receive our texts"))
    await expect(page.get_by_label("Mobile phone number")).to_be_focused()
    await save_screens(page, "in-app-invalid-number")

    # People type numbers with spaces; the app sends the E.164 form.
    await page.get_by_label("Mobile phone number").fill("+1 415 555 0123")
    await page.get_by_role("button", name="Send code").click()
    await expect(page.get_by_label("Verification code")).to_be_visible()
    await expect(page.get_by_role("alert")).to_be_hidden()


async def test_resend_then_cancel(
    inapp: InApp, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    await _set_up_phone(page, inapp, PHONE)
    await expect(page.get_by_label("Verification code")).to_be_visible()
    fake.latest_code(PHONE)  # the first text arrived
    await page.get_by_role("button", name="Resend code").click()
    await expect(page.get_by_text("We sent a new code.")).to_be_visible()
    assert len(fake.sms(PHONE)) == 2

    await page.get_by_role("button", name="Cancel").click()
    await expect(page.get_by_text("SMS setup cancelled")).to_be_visible()
    await expect(page.get_by_role("button", name="Set up SMS verification")).to_be_visible()
    assert fake.enrollments(inapp.user_id) == []


async def test_too_many_wrong_codes_stop_the_setup_with_a_friendly_message(
    inapp: InApp, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client], page: Page
) -> None:
    await _set_up_phone(page, inapp, PHONE)
    await expect(page.get_by_label("Verification code")).to_be_visible()
    code = fake.latest_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        await _verify(page, wrong)
        await expect(page.get_by_role("alert")).to_have_text(re.compile("That code isn't right"))
        await expect(page.get_by_role("button", name="Verify")).to_be_enabled()
    await _verify(page, wrong)
    await expect(page.get_by_role("alert")).to_have_text(re.compile("Too many wrong codes"))
    await expect(page.get_by_role("button", name="Set up SMS verification")).to_be_focused()
    assert fake.enrollments(inapp.user_id) == []
