"""``create_app(settings)``: the FastAPI application; its lifespan builds and wires the long-lived parts
(browser, OTP inbox, ticket issuer, metrics, registry) and closes them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from bridge import __version__
from bridge.api import errors
from bridge.api.middleware import BodyLimit, HeaderLimits
from bridge.api.routes import checks, console, docs, enrollments, health, inbox
from bridge.api.streams import StreamLimits
from bridge.artifacts import remove_leftovers
from bridge.browser import BrowserManager, browser_host_policy
from bridge.cluster import routing
from bridge.cluster.drain import Drain
from bridge.cluster.node import cluster_inbox, cluster_node, cluster_store
from bridge.cluster.routing import Forwarder
from bridge.errors import BridgeError
from bridge.inbox import OtpInbox
from bridge.metrics import Metrics
from bridge.outcomes import OutcomeCode
from bridge.protocol.engine import ProtocolEngine
from bridge.ratelimit import RateLimiter
from bridge.registry import Registry
from bridge.settings import BridgeSettings
from bridge.tickets import TicketIssuer
from bridge.urls import HostPolicy

log = logging.getLogger("bridge.api")


def create_app(
    settings: BridgeSettings | None = None,
    *,
    browser_manager: Callable[[BridgeSettings, HostPolicy], BrowserManager] = BrowserManager,
) -> FastAPI:
    """``browser_manager`` builds the app's ``BrowserManager``; a caller that already runs a browser passes
    one that lends it (``partial(BrowserManager, shared=browser)``: the test suite does, for its bridges)."""
    settings = settings or BridgeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = Metrics()
        remove_leftovers(settings.artifacts_dir)
        browser = browser_manager(settings, browser_host_policy(settings))
        secret = settings.otp_inbox_secret.get_secret_value() if settings.otp_inbox_secret else None
        store = cluster_store(settings)  # None in single-process mode
        inbox = (
            OtpInbox(secret, settings.otp_inbox_max_age_s)
            if store is None
            else cluster_inbox(settings, store)
        )
        protocol = ProtocolEngine(settings)
        registry = Registry(settings, [browser, protocol], inbox=inbox, metrics=metrics)
        # Cluster mode when a Redis is named (bridge.cluster); the drain serves both modes.
        node = cluster_node(settings, registry, store)
        app.state.cluster = node
        app.state.drain = Drain(registry, settings.drain_timeout_s, node)
        if node is not None:
            app.state.forwarder = Forwarder(node, settings.step_timeout_s)
            await node.start()

        async def browser_crashed() -> None:
            metrics.browser_restarts.inc()
            await registry.fail_open("browser", OutcomeCode.BROWSER_CRASHED)
            with suppress(Exception):
                await browser.start()

        browser.on_crash.append(browser_crashed)
        app.state.browser = browser
        app.state.inbox = inbox
        app.state.tickets = TicketIssuer.from_settings(settings)
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
            if node is not None:
                await app.state.forwarder.close()
                await node.close()
            await protocol.close()
            await browser.close()

    app = FastAPI(
        title="guardian-bridge",
        version=__version__,
        description="Drive Auth0's Guardian SMS enrollment widget one HTTP step at a time.",
        lifespan=lifespan,
        # Served by routes/docs.py instead: behind the token, and without Swagger UI's CDN scripts.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(
        settings.create_rate_per_minute, total_per_minute=settings.create_rate_per_minute_total
    )
    app.state.streams = StreamLimits(settings.max_streams_per_enrollment, settings.max_streams_per_token)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Outermost: header limits and the connection cap apply before anything else runs.
    app.add_middleware(HeaderLimits, max_bytes=settings.max_header_bytes, max_count=settings.max_header_count)
    errors.install(app)
    routing.install(app)
    app.include_router(health.router)
    app.include_router(enrollments.router)
    app.include_router(inbox.router)
    app.include_router(checks.router)
    docs.install(app, settings)
    if settings.console:
        app.include_router(console.router)
    return app
