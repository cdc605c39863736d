"""Several remote Playwright servers (``BRIDGE_BROWSER_WS_ENDPOINT`` with commas): each new browser
context goes to the live server with the fewest open contexts; a server that cannot be reached is
skipped and tried again after a short pause."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from playwright.async_api import Browser, Playwright
from playwright.async_api import Error as PlaywrightError

from bridge.errors import BrowserUnavailableError

log = logging.getLogger("bridge.browser")

# How long a server that could not be reached is left alone before the next attempt.
RETRY_AFTER_S = 5.0
CONNECT_TIMEOUT_MS = 15_000  # generous: a busy machine connects slowly; a closed port fails at once


def endpoints_of(setting: str | None) -> list[str]:
    return [part.strip() for part in (setting or "").split(",") if part.strip()]


class RemoteBrowsers:
    def __init__(self, endpoints: list[str]) -> None:
        self.endpoints = endpoints
        self._browsers: dict[str, Browser] = {}
        self._down_until: dict[str, float] = {}

    @property
    def connected(self) -> bool:
        return any(b.is_connected() for b in self._browsers.values())

    def open_contexts(self) -> dict[str, int]:
        """Open contexts per connected server (the load the choice is made on)."""
        return {ep: len(b.contexts) for ep, b in self._browsers.items() if b.is_connected()}

    async def _connect(self, pw: Playwright, endpoint: str) -> None:
        loop = asyncio.get_running_loop()
        if self._down_until.get(endpoint, 0.0) > loop.time():
            return
        try:
            browser = await pw.chromium.connect(endpoint, timeout=CONNECT_TIMEOUT_MS)
        except PlaywrightError:
            # The endpoint may carry a secret path: log its position in the list, not the URL.
            log.warning("remote browser unreachable", extra={"endpoint": self.endpoints.index(endpoint)})
            self._down_until[endpoint] = loop.time() + RETRY_AFTER_S
            return
        self._browsers[endpoint] = browser

    async def pick(self, pw: Playwright) -> Browser:
        """The live server with the fewest open contexts; connects to any not connected yet."""
        for endpoint, browser in list(self._browsers.items()):
            if not browser.is_connected():
                del self._browsers[endpoint]
        missing = [ep for ep in self.endpoints if ep not in self._browsers]
        if missing:
            await asyncio.gather(*(self._connect(pw, ep) for ep in missing))
        live = [b for b in self._browsers.values() if b.is_connected()]
        if not live:
            raise BrowserUnavailableError("none of the remote browsers can be reached")
        return min(live, key=lambda b: len(b.contexts))

    async def close(self) -> None:
        for browser in self._browsers.values():
            with suppress(PlaywrightError):
                await browser.close()
        self._browsers.clear()
