"""The browser engine: Playwright and the process's one Browser (launch or connect, relaunch on crash),
and ``BrowserSession``, one enrollment's context and page behind the ``EngineSession`` seam.

Also the one place Playwright's exceptions are translated into the bridge's error tree.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any, Literal

from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ProxySettings,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from bridge.artifacts import Artifacts
from bridge.browser_binary import find_chromium
from bridge.call_log import CallLog
from bridge.capture import PlaywrightCapture
from bridge.engine import SessionOptions
from bridge.errors import (
    BridgeError,
    BrowserCrashedError,
    BrowserUnavailableError,
    UpstreamError,
    WidgetTimeoutError,
)
from bridge.models import ScreenSnapshot
from bridge.redact import Redactor
from bridge.remote_browsers import RemoteBrowsers, endpoints_of
from bridge.sandbox import sandbox_on
from bridge.settings import BridgeSettings
from bridge.urls import HostPolicy
from bridge.widgets.base import WidgetDriver
from bridge.widgets.classic_table import CLASSIC, ClassicTable, customised
from bridge.widgets.detect import open_widget
from bridge.widgets.mask import masked_screenshot
from bridge.widgets.snapshot import read_screen

log = logging.getLogger("bridge.browser")

# Flags that keep a headless Chromium quiet on a closed network and fast to start. No --no-sandbox:
# whether the sandbox runs is ``chromium_sandbox`` (bridge.sandbox), and Playwright adds the flag only
# when it is off.
CHROMIUM_ARGS = (
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


def launch_options(settings: BridgeSettings, euid: int | None = None) -> dict[str, Any]:
    """Keyword arguments of ``chromium.launch`` for ``settings`` (the executable aside)."""
    return {
        "headless": settings.headless,
        "args": list(CHROMIUM_ARGS),
        "chromium_sandbox": sandbox_on(settings.browser_sandbox, euid),
    }


def browser_host_policy(settings: BridgeSettings) -> HostPolicy:
    """Hosts the browser may reach: the ticket hosts plus the widget's asset hosts (https only)."""
    return HostPolicy.of([*settings.allowed_hosts, *settings.browser_extra_hosts])


class BrowserManager:
    """One Chromium per process; contexts are cheap and give each enrollment its own cookies.

    As the browser ``Engine`` it makes one ``BrowserSession`` per enrollment.
    """

    name: Literal["browser"] = "browser"

    def __init__(
        self, settings: BridgeSettings, policy: HostPolicy | None = None, *, shared: Browser | None = None
    ) -> None:
        self._settings = settings
        self._policy = policy if policy is not None else browser_host_policy(settings)
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        # A running browser its owner lends (a test session serving many bridges on one Chromium): used
        # while connected and never closed here; should it go away, this manager launches its own.
        self._shared = shared
        self._lock = asyncio.Lock()
        self._closing = False
        self.restarts = 0
        self.on_crash: list[Callable[[], Coroutine[Any, Any, None]]] = []
        endpoints = endpoints_of(settings.browser_ws_endpoint)
        self._remotes = RemoteBrowsers(endpoints) if len(endpoints) > 1 and shared is None else None

    @property
    def connected(self) -> bool:
        if self._remotes is not None:
            return self._remotes.connected
        return self._browser is not None and self._browser.is_connected()

    @property
    def version(self) -> str | None:
        return self._browser.version if self._browser else None

    async def start(self) -> None:
        async with self._lock:
            await self._ensure()

    async def _ensure(self) -> Browser:
        if self._remotes is not None:  # several Playwright servers: the least loaded live one
            if self._pw is None:
                self._pw = await async_playwright().start()
            return await self._remotes.pick(self._pw)
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        if self._shared is not None and self._shared.is_connected():
            self._shared.on("disconnected", self._on_disconnected)
            self._browser = self._shared
            return self._shared
        if self._pw is None:
            self._pw = await async_playwright().start()
        try:
            if self._settings.browser_ws_endpoint:
                browser = await self._pw.chromium.connect(self._settings.browser_ws_endpoint)
            else:
                executable = find_chromium(self._settings.browser_executable)
                browser = await self._pw.chromium.launch(
                    executable_path=executable, **launch_options(self._settings)
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

    async def new_session(
        self, calls: CallLog, redactor: Redactor, artifacts: Artifacts, options: SessionOptions
    ) -> BrowserSession:
        """A fresh context and page for one enrollment, its calls recorded into ``calls`` (the widget page
        itself tells the browser what ``options`` could)."""
        context = await self.new_context(self._policy.proxy_bypass())
        trace = self._settings.trace
        try:
            with translate_playwright_errors("opening a page"):
                context.set_default_timeout(self._settings.step_timeout_s * 1000)
                page = await context.new_page()
            if trace:
                await start_trace(context)
        except BaseException:
            with suppress(PlaywrightError):
                await context.close()
            raise
        capture = PlaywrightCapture(calls)
        capture.attach(context)
        table = customised(self._settings.classic_texts) if self._settings.classic_texts else CLASSIC
        return BrowserSession(
            context, page, capture, redactor, artifacts if trace else None, table, self._policy
        )

    async def close(self) -> None:
        self._closing = True
        async with self._lock:
            if self._remotes is not None:
                await self._remotes.close()
            if self._browser is not None:
                if self._browser is not self._shared:
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


class BrowserSession:
    """One enrollment's browser context and page: the browser engine's ``EngineSession``."""

    name: Literal["browser"] = "browser"

    def __init__(
        self,
        context: BrowserContext,
        page: Page,
        capture: PlaywrightCapture,
        redactor: Redactor,
        trace_to: Artifacts | None,
        classic_table: ClassicTable = CLASSIC,
        policy: HostPolicy | None = None,
    ) -> None:
        self._context = context
        # Checked against the page's URL after navigating and before every picture: the proxy keeps
        # other hosts out, and this makes sure no picture of a page elsewhere is ever taken.
        self._policy = policy
        # What the Classic page object looks for (a tenant's own texts first, from settings).
        self._classic_table = classic_table
        self._page = page
        self._capture = capture
        self._redactor = redactor
        # Where the trace goes when the session closes; None when no trace is being recorded.
        self._trace_to = trace_to

    async def open(self, ticket_url: str, timeout_s: float) -> WidgetDriver | None:
        driver = await open_widget(self._page, self._capture.log, ticket_url, timeout_s, self._classic_table)
        self._require_allowed_page()
        return driver

    def _require_allowed_page(self) -> None:
        url = self._page.url
        if self._policy is not None and url != "about:blank" and not self._policy.allows_url(url):
            raise UpstreamError("the widget's page is on a host outside BRIDGE_ALLOWED_HOSTS")

    def translate_errors(self, what: str) -> AbstractContextManager[None]:
        return translate_playwright_errors(what)

    async def screenshot(self) -> bytes | None:
        self._require_allowed_page()
        with translate_playwright_errors("taking a screenshot"):
            return await masked_screenshot(self._page, self._classic_table)

    async def read_screen(self, name: str) -> ScreenSnapshot:
        return await read_screen(self._page, name, self._redactor)

    async def close(self) -> None:
        self._capture.forget_pending()
        if self._trace_to is not None:
            await self._save_trace(self._trace_to)
        try:
            await self._context.close()
        except Exception:
            log.debug("context close failed", exc_info=True)

    async def _save_trace(self, artifacts: Artifacts) -> None:
        path = artifacts.path_for("trace.zip")
        try:
            await stop_trace(self._context, str(path))
        except BridgeError:
            log.warning("could not save the trace")
            return
        artifacts.keep(path)
