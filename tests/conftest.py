"""Shared test fixtures: the fake tenant on a loopback port and one headless Chromium per session.

Scopes mirror production: one browser for the whole run, a fresh context (and so fresh cookies and
storage) for every test. Browser tests are marked here, by folder and by fixture, not file by file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from bridge.browser import CHROMIUM_ARGS
from bridge.browser_binary import find_chromium
from bridge.serving import ServerThread
from guardian_bridge_fake.app import create_app
from guardian_bridge_fake.harness import FakeTenantClient
from tests.hosting import BridgeHost

TESTS = Path(__file__).resolve().parent
# Folders whose every test drives a real Chromium, itself or through a bridge it starts.
BROWSER_FOLDERS = ("api", "cli", "web", "cluster")
# Fixtures that launch or hold a Chromium: a test using one, in any folder, is a browser test.
BROWSER_FIXTURES = frozenset({"browser", "context", "page", "bridge_host", "bridge_server", "check_bridge"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Adds the ``browser`` marker (``-m "not browser"`` runs the rest) by folder and by fixture."""
    folders = tuple(TESTS / name for name in BROWSER_FOLDERS)
    for item in items:
        in_folder = any(item.path.is_relative_to(folder) for folder in folders)
        if in_folder or BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[ServerThread]:
    with ServerThread(create_app()) as server:
        yield server


@pytest.fixture(scope="session")
def bridge_host() -> Iterator[BridgeHost]:
    """One Chromium, on its own loop, for every bridge the session serves (each with its own settings)."""
    host = BridgeHost()
    yield host
    host.close()


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
        # The bridge's own flags, so tests see the browser the bridge runs.
        b = await pw.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS), headless=True)
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
