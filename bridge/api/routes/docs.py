"""``/openapi.json`` and ``/docs``: the API's description, behind the bearer token unless
``BRIDGE_API_DOCS=public`` (off with ``off``). ``/docs`` is a plain page built here from the OpenAPI
document: no script, nothing loaded from another origin (FastAPI's Swagger UI comes from a CDN)."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bridge.api.deps import Authenticated
from bridge.settings import BridgeSettings

_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _page(spec: dict[str, Any]) -> str:
    rows = []
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            summary = operation.get("summary") or operation.get("description", "").split("\n")[0]
            rows.append(
                f"<tr><td><code>{escape(method.upper())} {escape(path)}</code></td>"
                f"<td>{escape(summary)}</td></tr>"
            )
    title = escape(f"{spec['info']['title']} {spec['info']['version']}")
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}td{padding:.25rem 1rem .25rem 0}</style>"
        f"</head><body><h1>{title}</h1><p>The full description: <a href=openapi.json>openapi.json</a>.</p>"
        f"<table>{''.join(rows)}</table></body></html>"
    )


def install(app: FastAPI, settings: BridgeSettings) -> None:
    if settings.api_docs == "off":
        return
    dependencies = [] if settings.api_docs == "public" else [Authenticated]
    router = APIRouter(include_in_schema=False, dependencies=dependencies)

    @router.get("/openapi.json")
    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @router.get("/docs")
    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(
            _page(request.app.openapi()),
            headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store"},
        )

    app.include_router(router)
