"""``/console``: the operator console's page and its static files, behind a strict Content-Security-Policy.

The page holds no secret and needs none to load: the person types an API token, and the page's script
calls the same ``/v1`` API with it, so the console sees exactly what that token may see.
"""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from bridge.api.schemas import CreateEnrollment
from bridge.console import ASSETS, read_asset
from bridge.errors import NotFoundError

# Same-origin scripts, styles, API calls and images (screenshots arrive as blob: URLs made from fetch
# responses); nothing inline, nothing from elsewhere, no framing, no plugins, no form posts elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

router = APIRouter(prefix="/console", include_in_schema=False)


def _asset(name: str) -> Response:
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return Response(read_asset(name), media_type=ASSETS[name], headers=headers)


@router.get("")
async def page() -> Response:
    return _asset("console.html")


def engines() -> list[str]:
    """The engines a start may ask for, read from the request schema (none before it has the field)."""
    field = CreateEnrollment.model_fields.get("engine")
    return _literals(field.annotation) if field is not None else []


def _literals(annotation: Any) -> list[str]:
    """The string values of a ``Literal`` annotation, also inside ``X | None``."""
    if get_origin(annotation) is Literal:
        return [str(value) for value in get_args(annotation)]
    return [value for arg in get_args(annotation) for value in _literals(arg)]


@router.get("/features.json")
async def features() -> JSONResponse:
    """What the page may offer beyond the basics: today the engine choice, once the API has one."""
    return JSONResponse({"engines": engines()}, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/{name}")
async def asset(name: str) -> Response:
    """The page's scripts and style sheet; any other name is not found."""
    if name not in ASSETS or name.endswith(".html"):
        raise NotFoundError("no such console file")
    return _asset(name)
