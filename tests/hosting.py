"""Many bridges on one Chromium: an event loop on a thread that holds the test session's bridge browser,
and serves each bridge app a test needs (each with its own settings) on that same loop.

Playwright's objects belong to the event loop that made them, so bridges that share a browser must run
on its loop; ``create_app``'s ``browser_manager`` seam lends them the browser. Bridges that must own
their browser (crash and relaunch, remote browser) keep using ``ServerThread``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from functools import partial
from typing import Any

import uvicorn
from playwright.async_api import Browser, Playwright, async_playwright

from bridge.api import create_app
from bridge.browser import CHROMIUM_ARGS, BrowserManager
from bridge.browser_binary import find_chromium
from bridge.serving import free_port
from bridge.settings import BridgeSettings


class HostedBridge:
    """One bridge app served on the host's loop; ``start()`` returns once it accepts connections."""

    def __init__(self, host: BridgeHost, settings: BridgeSettings, port: int | None = None) -> None:
        self._host = host
        self.port = port or free_port()
        app = create_app(settings, browser_manager=partial(BrowserManager, shared=host.browser))
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
        self.server = uvicorn.Server(config)
        self._serving: Future[None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> HostedBridge:
        self._serving = asyncio.run_coroutine_threadsafe(self.server.serve(), self._host.loop)
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self._serving.done() or time.monotonic() > deadline:
                raise RuntimeError(f"bridge on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        # A hang guard, not a timing: an event stream still open at shutdown may wait out its heartbeat
        # (15 s) before the server notices, and a loaded machine adds to that.
        self.server.should_exit = True
        if self._serving is not None:
            self._serving.result(timeout)

    def __enter__(self) -> HostedBridge:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class BridgeHost:
    """The loop thread and the one Chromium its bridges share."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bridge-host", daemon=True)
        self._thread.start()
        self._pw: Playwright | None = None
        self.browser: Browser = self._run(self._launch())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _launch(self) -> Browser:
        executable = find_chromium()
        assert executable, "no Chromium found: run scripts/dev setup"
        self._pw = await async_playwright().start()
        return await self._pw.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
        )

    def serve(self, settings: BridgeSettings, port: int | None = None) -> HostedBridge:
        """A bridge with ``settings`` on the shared browser; use as a context manager (or start/stop)."""
        return HostedBridge(self, settings, port)

    async def _close(self) -> None:
        await self.browser.close()
        if self._pw is not None:
            await self._pw.stop()

    def close(self) -> None:
        self._run(self._close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
