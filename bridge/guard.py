"""Keeps every request of an enrollment's browser context on allowed hosts.

The ticket URL is checked before navigation (``urls.check_ticket_url``), but a redirect, a script or an
iframe could still point the browser at an internal address. Routing every request of the context through
this guard aborts anything outside the allowlist and records it, so it shows in the enrollment's calls.
"""

from __future__ import annotations

from playwright.async_api import BrowserContext, Route
from playwright.async_api import Error as PlaywrightError

from bridge.capture import CallRecorder
from bridge.urls import HostPolicy


async def install_host_guard(context: BrowserContext, policy: HostPolicy, recorder: CallRecorder) -> None:
    async def guard(route: Route) -> None:
        request = route.request
        try:
            if policy.allows_url(request.url):
                await route.fallback()
            else:
                recorder.record_blocked(request.method, request.url, request.resource_type)
                await route.abort("blockedbyclient")
        except PlaywrightError:
            # The page or context closed while the request was pending: nothing left to route.
            pass

    await context.route("**/*", guard)
