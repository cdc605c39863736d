"""Shared test fixtures: the fake tenant on a loopback port and one headless Chromium per session.

Scopes mirror production: one browser for the whole run, a fresh context (and so fresh cookies and
storage) for every test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from bridge.browser_binary import find_chromium
from bridge.serving import ServerThread
from guardian_bridge_fake.app import create_app
from guardian_bridge_fake.harness import FakeTenantClient

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def fake_server() -> Iterator[ServerThread]:
    with ServerThread(create_app()) as server:
        yield server


@pytest.fixture
def fake(fake_server: ServerThread) -> Iterator[FakeTenantClient]:
    """The fake tenant, reset to a clean state for this test."""
    client = FakeTenantClient(fake_server.base_url)
    client.reset()
    yield client
    client.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = find_chromium()
    assert executable, "no Chromium found: run scripts/dev setup"
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield b
        await b.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context()
    ctx.set_default_timeout(10_000)
    yield ctx
    await ctx.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> Page:
    return await context.new_page()
