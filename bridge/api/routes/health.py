"""``/healthz`` (is the process alive and its browser up), ``/readyz`` (can it take an enrollment now)
and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bridge import __version__
from bridge.access import authenticate
from bridge.api.deps import BrowserDep, RegistryDep, SettingsDep
from bridge.api.errors import error_response
from bridge.cluster.routing import cluster_unready
from bridge.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(registry: RegistryDep, browser: BrowserDep) -> Health:
    connected = browser.connected
    return Health(
        status="ok" if connected else "degraded",
        browser_connected=connected,
        sessions_in_use=registry.in_use,
        session_limit=registry.settings.max_enrollments,
        version=__version__,
    )


@router.get("/readyz", responses={503: {"description": "browser down or no free session"}})
async def readyz(request: Request, registry: RegistryDep, browser: BrowserDep) -> Response:
    """Ready when the browser is up and a new enrollment would not be refused for capacity: a load
    balancer can route elsewhere meanwhile (distinct from /healthz, which only says the process lives).
    A bridge whose default engine is the protocol engine needs no browser to be ready."""
    if not browser.connected and registry.settings.default_engine != "protocol":
        return error_response(503, "browser_unavailable", "the browser is not connected")
    if (unready := await cluster_unready(request)) is not None:  # draining, or Redis down
        return unready
    settings = registry.settings
    full = registry.in_use >= settings.max_enrollments
    # Without a queue (queue_timeout_s 0) a full bridge refuses the next start at once: not ready.
    queue_open = settings.queue_timeout_s > 0 and registry.waiting < settings.max_queue
    if full and not queue_open:
        return error_response(503, "session_limit", "every session is taken and no start may wait")
    return Response(status_code=204)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request, registry: RegistryDep, settings: SettingsDep) -> Response:
    if not settings.metrics_public:
        # bridge.access directly, not the require_token dependency: called here by hand, an async
        # dependency would hand back a coroutine and check nothing.
        authenticate(
            request.headers.get("authorization"), settings.token_values(), settings.admin_token_values()
        )
    return Response(registry.metrics.render(), media_type="text/plain; version=0.0.4")
