"""``/healthz``: is the browser up, and how many sessions are in use."""

from __future__ import annotations

from fastapi import APIRouter, Request

from bridge import __version__
from bridge.api.deps import RegistryDep
from bridge.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request, registry: RegistryDep) -> Health:
    connected = registry.browser.connected
    return Health(
        status="ok" if connected else "degraded",
        browser_connected=connected,
        sessions_in_use=registry.in_use,
        session_limit=registry.settings.max_enrollments,
        version=__version__,
    )
