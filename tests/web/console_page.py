"""The operator console as a person uses it: by its labels, roles and visible texts only."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect


class ConsolePage:
    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    async def open(self, token: str) -> None:
        await self.page.goto(f"{self.base_url}/console")
        await self.page.get_by_label("API token").fill(token)
        await self.page.get_by_label("API token").press("Enter")

    @property
    def state(self) -> Locator:
        return self.page.get_by_role("status").filter(has_text="State")

    async def expect_state(self, text: str) -> None:
        await expect(self.state).to_contain_text(text, timeout=30_000)

    async def start(self, *, ticket_url: str | None = None, user_id: str | None = None) -> None:
        if ticket_url is not None:
            await self.page.get_by_label("Ticket URL").fill(ticket_url)
        if user_id is not None:
            await self.page.get_by_label("User ID").fill(user_id)
        await self.page.get_by_role("button", name="Start").click()
        await self.expect_state("Waiting for the phone number")

    async def send_phone(self, phone: str) -> None:
        field = self.page.get_by_label("Phone number")
        await expect(field).to_be_enabled()
        await field.fill(phone)
        await self.page.get_by_role("button", name="Send code").click()

    async def verify(self, code: str) -> None:
        field = self.page.get_by_label("Code", exact=True)
        await expect(field).to_be_enabled()
        await field.fill(code)
        await self.page.get_by_role("button", name="Verify").click()

    @property
    def alert(self) -> Locator:
        return self.page.get_by_role("alert")

    def step_rows(self) -> Locator:
        return self.page.get_by_role("table", name="Steps of this enrollment with their timings").locator(
            "tbody tr"
        )

    def call_rows(self) -> Locator:
        return self.page.get_by_role("table", name="The widget's own calls, secrets redacted").locator(
            "tbody tr"
        )

    def listed(self) -> Locator:
        return self.page.get_by_role("table", name="Enrollments started with this API token").locator(
            "tbody tr"
        )
