"""Feeds a browser context's own network calls into the enrollment's ``CallLog``.

What is recorded: every XHR/fetch call (the Classic widget's Guardian API: start-flow, sms-enroll,
verify-otp, transaction-state, ...), every form POST and every page navigation (Universal Login's one
POST + 302 per step). Static assets are not. Redaction, bounds and cursor reads are the log's
(``bridge.call_log``); this module only listens to Playwright's request events.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Request, Response
from playwright.async_api import Error as PlaywrightError

from bridge.call_log import CallLog, decode_body, endpoint_of, interesting_headers
from bridge.models import CapturedCall

# What the widget drivers read calls through; the log is engine-neutral, the name stays for them.
CallRecorder = CallLog

__all__ = ["CallRecorder", "PlaywrightCapture", "endpoint_of"]

_RECORDED_TYPES = {"xhr", "fetch", "document"}
_BLOCKED_FAILURES = ("ERR_PROXY_CONNECTION_FAILED", "ERR_TUNNEL_CONNECTION_FAILED")


class PlaywrightCapture:
    """Listens to one browser context and records each finished call into ``log``."""

    def __init__(self, log: CallLog) -> None:
        self.log = log
        self._started: dict[Request, tuple[float, datetime]] = {}
        # Responses as the browser reports them, so recording needs no extra round trip to ask.
        self._responses: dict[Request, Response] = {}
        self._documents: set[Request] = set()

    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._on_request)
        context.on("response", self._on_response)
        context.on("requestfinished", self._on_done)
        context.on("requestfailed", self._on_failed)

    def forget_pending(self) -> None:
        """Drops requests that will never finish (their context closed), so nothing keeps them alive."""
        self._started.clear()
        self._responses.clear()
        self._documents.clear()
        self.log.documents_in_flight = 0

    def _on_request(self, request: Request) -> None:
        if request.resource_type in _RECORDED_TYPES:
            self._started[request] = (time.monotonic(), datetime.now(UTC))
            self.log.requested[endpoint_of(urlsplit(request.url).path)] += 1
            if request.resource_type == "document":
                self._documents.add(request)
                self.log.documents_in_flight = len(self._documents)

    def _on_response(self, response: Response) -> None:
        if response.request in self._started:
            self._responses[response.request] = response

    def _settled(self, request: Request) -> None:
        if request in self._documents:
            self._documents.discard(request)
            self.log.documents_in_flight = len(self._documents)

    def _on_failed(self, request: Request) -> None:
        self._settled(request)
        # Hosts outside the allowlist go to a proxy where nothing listens (see browser.py), so this
        # failure means "blocked": record it whatever kind of resource it was.
        if any(marker in (request.failure or "") for marker in _BLOCKED_FAILURES):
            self._started.pop(request, None)
            self.log.record_blocked(request.method, request.url, request.resource_type)
            return
        self._on_done(request)

    def _on_done(self, request: Request) -> None:
        self._settled(request)
        started = self._started.pop(request, None)
        if started is None:
            return
        self.log.track(asyncio.get_running_loop().create_task(self._record(request, *started)))

    async def _record(self, request: Request, t0: float, started_at: datetime) -> None:
        kind = "api" if request.resource_type in ("xhr", "fetch") else "navigation"
        if kind == "navigation" and request.method != "GET":
            kind = "form"
        response = self._responses.pop(request, None)
        duration_ms = (time.monotonic() - t0) * 1000
        path = urlsplit(request.url).path
        endpoint = endpoint_of(path)
        request_headers = request.headers
        request_body = decode_body(request.post_data, request_headers.get("content-type", ""))
        status: int | None = None
        response_headers: dict[str, str] = {}
        response_body: Any = None
        redirect_to: str | None = None
        if response is not None:
            status = response.status
            response_headers = response.headers
            if 300 <= status < 400:
                redirect_to = response_headers.get("location")
            elif kind == "api":
                response_body = await self._body(response, response_headers.get("content-type", ""))
                self.log.raw_responses[endpoint] = response_body
        red = self.log.redactor
        auth = request_headers.get("authorization")
        self.log.record(
            CapturedCall(
                seq=0,
                kind=kind,
                method=request.method,
                url=red.url(request.url),
                path=red.text(path),
                endpoint=endpoint,
                status=status,
                started_at=started_at,
                duration_ms=round(duration_ms, 1),
                auth_scheme=auth.split(" ", 1)[0] if auth else None,
                request_headers=red.headers(interesting_headers(request_headers)),
                request_body=red.value(request_body),
                response_headers=red.headers(interesting_headers(response_headers)),
                response_body=red.value(response_body),
                redirect_to=red.url(redirect_to) if redirect_to else None,
                failure=request.failure,
                redacted=red.enabled,
            )
        )

    async def _body(self, response: Response, content_type: str) -> Any:
        try:
            raw = await response.body()
        except PlaywrightError:
            return None
        if len(raw) > self.log.max_body_bytes:
            return {"truncated_bytes": len(raw)}
        return decode_body(raw, content_type)
