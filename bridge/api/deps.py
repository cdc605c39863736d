"""Dependencies handed to routes: settings, the registry, the browser, the OTP inbox, the ticket issuer,
and bearer-token authentication."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from bridge.browser import BrowserManager
from bridge.errors import RateLimitedError, UnauthorizedError
from bridge.inbox import OtpInbox
from bridge.ratelimit import RateLimiter
from bridge.registry import Registry
from bridge.settings import BridgeSettings
from bridge.tickets import TicketIssuer


def _settings(request: Request) -> BridgeSettings:
    settings: BridgeSettings = request.app.state.settings
    return settings


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _browser(request: Request) -> BrowserManager:
    browser: BrowserManager = request.app.state.browser
    return browser


def _inbox(request: Request) -> OtpInbox:
    inbox: OtpInbox = request.app.state.inbox
    return inbox


def _tickets(request: Request) -> TicketIssuer | None:
    tickets: TicketIssuer | None = request.app.state.tickets
    return tickets


SettingsDep = Annotated[BridgeSettings, Depends(_settings)]
RegistryDep = Annotated[Registry, Depends(_registry)]
BrowserDep = Annotated[BrowserManager, Depends(_browser)]
InboxDep = Annotated[OtpInbox, Depends(_inbox)]
TicketsDep = Annotated[TicketIssuer | None, Depends(_tickets)]


def require_token(request: Request, settings: SettingsDep) -> None:
    """Accepts ``Authorization: Bearer <token>`` for any configured token (constant-time compare).

    With no tokens configured the API is open; ``guardian-bridge serve`` refuses that off loopback.
    """
    tokens = settings.token_values()
    if not tokens:
        return
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise UnauthorizedError("missing bearer token")
    matched = False
    for token in tokens:
        # Compare against every token so the time taken does not reveal which one matched.
        matched |= hmac.compare_digest(presented.strip().encode(), token.encode())
    if not matched:
        raise UnauthorizedError("invalid bearer token")


Authenticated = Depends(require_token)


def limit_creation(request: Request, settings: SettingsDep) -> None:
    """One bucket per bearer token (keyed by its hash, never the token itself), or per client address
    when the API is open."""
    header = request.headers.get("authorization", "")
    source = header or (request.client.host if request.client else "unknown")
    key = hashlib.sha256(source.encode()).hexdigest()
    limiter: RateLimiter = request.app.state.rate_limiter
    try:
        limiter.take(key)
    except RateLimitedError:
        _registry(request).metrics.rejections.labels("rate_limited").inc()
        raise


CreationLimited = Depends(limit_creation)
