"""Dependencies handed to routes: settings, the registry, the browser, the OTP inbox, the ticket issuer,
the authenticated caller (``bridge.access``) and the creation rate limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bridge.access import OPEN_OWNER, Caller, authenticate
from bridge.api.streams import StreamLimits
from bridge.browser import BrowserManager
from bridge.errors import RateLimitedError
from bridge.inbox import OtpInbox
from bridge.ratelimit import RateLimiter
from bridge.registry import Registry
from bridge.settings import BridgeSettings
from bridge.tickets import TicketIssuer


# The dependencies are ``async def`` although none of them awaits: FastAPI runs a plain ``def``
# dependency on its thread pool, a hand-off that cost more CPU than the whole dependency.
async def _settings(request: Request) -> BridgeSettings:
    settings: BridgeSettings = request.app.state.settings
    return settings


async def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def _browser(request: Request) -> BrowserManager:
    browser: BrowserManager = request.app.state.browser
    return browser


async def _inbox(request: Request) -> OtpInbox:
    inbox: OtpInbox = request.app.state.inbox
    return inbox


async def _streams(request: Request) -> StreamLimits:
    streams: StreamLimits = request.app.state.streams
    return streams


async def _tickets(request: Request) -> TicketIssuer | None:
    tickets: TicketIssuer | None = request.app.state.tickets
    return tickets


SettingsDep = Annotated[BridgeSettings, Depends(_settings)]
RegistryDep = Annotated[Registry, Depends(_registry)]
BrowserDep = Annotated[BrowserManager, Depends(_browser)]
InboxDep = Annotated[OtpInbox, Depends(_inbox)]
TicketsDep = Annotated[TicketIssuer | None, Depends(_tickets)]
StreamsDep = Annotated[StreamLimits, Depends(_streams)]


async def require_token(request: Request, settings: SettingsDep) -> Caller:
    """The caller of ``Authorization: Bearer <token>`` (``bridge.access``), kept on the request.

    With no tokens configured the API is open; ``guardian-bridge serve`` refuses that off loopback.
    """
    caller = authenticate(
        request.headers.get("authorization"), settings.token_values(), settings.admin_token_values()
    )
    request.state.caller = caller
    return caller


Authenticated = Depends(require_token)
CallerDep = Annotated[Caller, Depends(require_token)]


async def limit_creation(request: Request, caller: CallerDep) -> None:
    """One bucket per token (keyed by the matched token's fingerprint, so spelling ``Bearer`` another
    way is the same bucket), or per client address when the API is open; and one bucket for everyone."""
    key = caller.owner
    if key == OPEN_OWNER:
        key = "addr:" + (request.client.host if request.client else "unknown")
    limiter: RateLimiter = request.app.state.rate_limiter
    try:
        limiter.take(key)
    except RateLimitedError:
        registry: Registry = request.app.state.registry
        registry.metrics.rejections.labels("rate_limited").inc()
        raise


CreationLimited = Depends(limit_creation)


def presented_token(request: Request) -> str | None:
    """The bearer token of this request as sent (for a route that calls the API again as its caller)."""
    scheme, _, rest = request.headers.get("authorization", "").strip().partition(" ")
    return rest.strip() or None if scheme.lower() == "bearer" else None
