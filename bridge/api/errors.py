"""One exception handler for the whole API: every non-2xx body is
``{"error": {"code", "message", "enrollment_id"}}``."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bridge.errors import BridgeError

log = logging.getLogger("bridge.api")

_HTTP_CODES = {
    400: "invalid_request",  # a body that is not even decodable JSON
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(
    status: int,
    code: str,
    message: str,
    enrollment_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "enrollment_id": enrollment_id}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _bridge_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BridgeError)
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    if exc.status >= 500:
        log.warning("request failed", extra={"error_code": exc.code})
    return error_response(exc.status, exc.code, exc.message, exc.enrollment_id, headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Field locations and pydantic's messages only: the submitted values may be phone numbers or codes.
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return error_response(422, "invalid_request", "; ".join(parts) or "invalid request")


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error", exc_info=exc)
    return error_response(500, "internal_error", "the bridge hit an unexpected error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(BridgeError, _bridge_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
