"""Owns Playwright and the process's one Browser: launch or connect, new contexts, relaunch on crash.

Also the one place Playwright's exceptions are translated into the bridge's error tree.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from playwright.async_api import Browser, BrowserContext, Playwright, ProxySettings, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from bridge.browser_binary import find_chromium
from bridge.errors import BrowserCrashedError, BrowserUnavailableError, UpstreamError, WidgetTimeoutError
from bridge.settings import BridgeSettings

log = logging.getLogger("bridge.browser")

# Flags that keep a headless Chromium quiet on a closed network and fast to start.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-extensions",
    "--mute-audio",
)


@contextmanager
def translate_playwright_errors(what: str) -> Iterator[None]:
    """Maps Playwright failures to bridge errors; ``what`` names the action (no secrets)."""
    try:
        yield
    except PlaywrightTimeoutError as exc:
        raise WidgetTimeoutError(f"the widget did not respond in time while {what}") from exc
    except PlaywrightError as exc:
        text = str(exc).lower()
        if "net::err_" in text:
            # The page (or a redirect) could not be loaded: refused, unresolvable, or a host the
            # context's dead-end proxy keeps out.
            raise UpstreamError(f"the widget's page could not be loaded while {what}") from exc
        if "closed" in text or "crash" in text or "disconnected" in text:
            raise BrowserCrashedError(f"the browser went away while {what}") from exc
        raise BrowserUnavailableError(f"the browser failed while {what}") from exc


class BrowserManager:
    """One Chromium per process; contexts are cheap and give each enrollment its own cookies."""

    def __init__(self, settings: BridgeSettings) -> None:
        self._settings = settings
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()
        self._closing = False
        self.restarts = 0
        self.on_crash: list[Callable[[], Coroutine[Any, Any, None]]] = []

    @property
    def connected(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    @property
    def version(self) -> str | None:
        return self._browser.version if self._browser else None

    async def start(self) -> None:
        async with self._lock:
            await self._ensure()

    async def _ensure(self) -> Browser:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        if self._pw is None:
            self._pw = await async_playwright().start()
        try:
            if self._settings.browser_ws_endpoint:
                browser = await self._pw.chromium.connect(self._settings.browser_ws_endpoint)
            else:
                executable = find_chromium(self._settings.browser_executable)
                browser = await self._pw.chromium.launch(
                    executable_path=executable,
                    headless=self._settings.headless,
                    args=list(CHROMIUM_ARGS),
                )
        except PlaywrightError as exc:
            raise BrowserUnavailableError("could not start or reach the browser") from exc
        browser.on("disconnected", self._on_disconnected)
        self._browser = browser
        log.info("browser ready", extra={"browser_version": browser.version})
        return browser

    def _on_disconnected(self, _: Browser) -> None:
        if self._closing:
            return
        log.warning("browser disconnected")
        self._browser = None
        self.restarts += 1
        for callback in list(self.on_crash):
            asyncio.get_running_loop().create_task(callback())

    async def new_context(self, proxy_bypass: str | None = None) -> BrowserContext:
        """A fresh context; with ``proxy_bypass``, every host not listed goes to a dead proxy."""
        async with self._lock:
            browser = await self._ensure()
        proxy: ProxySettings | None = None
        if proxy_bypass is not None:
            proxy = {"server": self._settings.browser_blackhole_proxy, "bypass": proxy_bypass}
        with translate_playwright_errors("opening a browser context"):
            return await browser.new_context(
                locale="en-US",
                viewport={"width": 800, "height": 900},
                service_workers="block",
                proxy=proxy,
            )

    async def close(self) -> None:
        self._closing = True
        async with self._lock:
            if self._browser is not None:
                with suppress(PlaywrightError):
                    await self._browser.close()
                self._browser = None
            if self._pw is not None:
                await self._pw.stop()
                self._pw = None


async def start_trace(context: BrowserContext) -> None:
    with translate_playwright_errors("starting a trace"):
        await context.tracing.start(screenshots=True, snapshots=True)


async def stop_trace(context: BrowserContext, path: str) -> None:
    with translate_playwright_errors("saving a trace"):
        await context.tracing.stop(path=path)
