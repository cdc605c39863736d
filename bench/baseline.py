"""The baseline: the minimal Playwright script a competent engineer writes for the same enrollment.

No retries, no outcome classification, no capture: user-facing locators, wait for the next screen,
read the code from the fake. It launches the bridge's Chromium with the bridge's flags and opens its
contexts with the bridge's options, so the only difference left is the bridge itself.
"""

from __future__ import annotations

import time

from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from bench.through_bridge import Flavour, Phone, Run
from bridge.browser import CHROMIUM_ARGS
from guardian_bridge_fake.harness import FakeTenantClient

# The bridge's step timeout; a hung widget fails the run instead of hanging the benchmark.
TIMEOUT_MS = 20_000

PHONE_CLASSIC = "Your phone number"
PHONE_UNIVERSAL = "Enter your phone number"
CODE = "Enter the 6-digit code"
RECOVERY_SAVED = "I have safely recorded this code"


def launch(pw: Playwright, chromium: str) -> Browser:
    return pw.chromium.launch(executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS))


def new_page(browser: Browser) -> tuple[BrowserContext, Page]:
    # Same context options as bridge/browser.py; they change rendering work, not the steps.
    context = browser.new_context(
        locale="en-US", viewport={"width": 800, "height": 900}, service_workers="block"
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def open_ticket(page: Page, flavour: Flavour, ticket_url: str) -> None:
    """Opens the ticket and waits for phone entry (Universal Login's redeem page submits itself)."""
    page.goto(ticket_url)
    name = PHONE_CLASSIC if flavour == "classic" else PHONE_UNIVERSAL
    page.get_by_placeholder(name).wait_for()


def submit_phone(page: Page, flavour: Flavour, phone: Phone) -> None:
    """Enters a US number and waits for code entry."""
    if flavour == "classic":
        page.get_by_label("Country").select_option("US")  # Classic defaults to the United Kingdom
        field = page.get_by_placeholder(PHONE_CLASSIC)
        field.fill(phone.national)
        field.press("Enter")  # the widget's submit is an unnamed icon button: Enter, as a person would
    else:
        page.get_by_placeholder(PHONE_UNIVERSAL).fill(phone.national)  # Universal defaults to US +1
        page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_placeholder(CODE).wait_for()


def submit_code(page: Page, flavour: Flavour, code: str) -> None:
    """Enters the code, acknowledges the recovery code and waits for the final screen."""
    field = page.get_by_placeholder(CODE)
    field.fill(code)
    if flavour == "classic":
        # Classic's buttons have no text (the language dictionary has none for them): Enter in the
        # field, then the recovery screen's only button once its box is ticked.
        field.press("Enter")
        page.get_by_label(RECOVERY_SAVED).check()
        page.get_by_role("button").click()
        page.get_by_text("Congratulations, you are all set.").wait_for()
    else:
        button = page.get_by_role("button", name="Continue", exact=True)
        button.click()
        page.get_by_label(RECOVERY_SAVED).check()
        button.click()
        page.get_by_role("heading", name="You're All Set!").wait_for()


def enroll(browser: Browser, fake: FakeTenantClient, flavour: Flavour, ticket_url: str, phone: Phone) -> Run:
    """The whole enrollment in a fresh context, closed at the end as the bridge closes its own."""
    t0 = time.perf_counter()
    context, page = new_page(browser)
    try:
        open_ticket(page, flavour, ticket_url)
        t1 = time.perf_counter()
        submit_phone(page, flavour, phone)
        t2 = time.perf_counter()
        code = fake.latest_code(phone.e164)
        t3 = time.perf_counter()
        submit_code(page, flavour, code)
    finally:
        context.close()
    t4 = time.perf_counter()
    return Run(
        total=(t4 - t0) * 1000,
        start=(t1 - t0) * 1000,
        phone=(t2 - t1) * 1000,
        code_read=(t3 - t2) * 1000,
        code=(t4 - t3) * 1000,
    )
