"""``create_app(settings)``: the FastAPI application; its lifespan owns the browser and the registry."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bridge import __version__
from bridge.api import errors
from bridge.api.middleware import BodyLimit
from bridge.api.routes import checks, console, enrollments, health, inbox
from bridge.browser import BrowserManager
from bridge.errors import BridgeError
from bridge.ratelimit import RateLimiter
from bridge.registry import Registry
from bridge.settings import BridgeSettings

log = logging.getLogger("bridge.api")


def create_app(settings: BridgeSettings | None = None) -> FastAPI:
    settings = settings or BridgeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        browser = BrowserManager(settings)
        registry = Registry(settings, browser)
        app.state.registry = registry
        try:
            await browser.start()
        except BridgeError:
            # Serve anyway: /healthz reports the browser down and enrollments answer 503 until the
            # next attempt to launch it succeeds.
            log.exception("browser did not start")
        registry.start_reaper()
        try:
            yield
        finally:
            await registry.close()
            await browser.close()

    app = FastAPI(
        title="guardian-bridge",
        version=__version__,
        description="Drive Auth0's Guardian SMS enrollment widget one HTTP step at a time.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings.create_rate_per_minute)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(enrollments.router)
    app.include_router(inbox.router)
    app.include_router(checks.router)
    if settings.console:
        app.include_router(console.router)
    return app
