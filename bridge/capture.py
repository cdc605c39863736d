"""Records the widget's own network calls in one browser context, redacted, bounded, read by cursor.

What is recorded: every XHR/fetch call (the Classic widget's Guardian API: start-flow, sms-enroll,
verify-otp, transaction-state, ...), every form POST and every page navigation (Universal Login's one
POST + 302 per step). Static assets are not. Calls get their ``seq`` when they finish, so a cursor
(``after(seq)``) never skips a call that was still in flight.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from playwright.async_api import BrowserContext, Request, Response
from playwright.async_api import Error as PlaywrightError

from bridge.models import CapturedCall
from bridge.redact import Redactor

_API_PATH = re.compile(r"/api/(?P<rest>[\w\-/.%]+)$")
_DEVICE_ACCOUNT_STEP = re.compile(r"^device-accounts/[^/]+/(?P<step>[\w-]+)$")
_RECORDED_TYPES = {"xhr", "fetch", "document"}
_BLOCKED_FAILURES = ("ERR_PROXY_CONNECTION_FAILED", "ERR_TUNNEL_CONNECTION_FAILED")


def endpoint_of(path: str) -> str:
    """A short stable name for a call: ``start-flow``, ``sms-enroll``, ``u/mfa-sms-enrollment``..."""
    match = _API_PATH.search(path)
    if match:
        rest = match.group("rest")
        step = _DEVICE_ACCOUNT_STEP.match(rest)
        return step.group("step") if step else rest
    return path.strip("/") or "/"


def _decode_body(raw: str | bytes | None, content_type: str) -> Any:
    if raw is None or raw in ("", b""):
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if "json" in content_type or text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text, keep_blank_values=True))
    return text


class CallRecorder:
    def __init__(self, redactor: Redactor, max_calls: int = 200, max_body_bytes: int = 16_384):
        self.redactor = redactor
        self.max_body_bytes = max_body_bytes
        self._calls: deque[CapturedCall] = deque(maxlen=max_calls)
        self._seq = 0
        self._started: dict[Request, tuple[float, datetime]] = {}
        # Responses as the browser reports them, so recording needs no extra round trip to ask.
        self._responses: dict[Request, Response] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        # Raw (unredacted) JSON of the latest response per endpoint, for the widget driver only: the
        # Classic widget's outcomes (a 204 vs a 401) and its recovery code live in these responses.
        self.raw_responses: dict[str, Any] = {}
        # Endpoints the page has started calling, before they finish (flavour detection needs this).
        self.requested: Counter[str] = Counter()
        self.total = 0
        self.blocked = 0
        # Told the kind of every recorded call (metrics); optional.
        self.on_record: Callable[[str], None] | None = None

    # --- wiring ---
    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._on_request)
        context.on("response", self._on_response)
        context.on("requestfinished", self._on_done)
        context.on("requestfailed", self._on_failed)

    def forget_pending(self) -> None:
        """Drops requests that will never finish (their context closed), so nothing keeps them alive."""
        self._started.clear()
        self._responses.clear()

    def _on_request(self, request: Request) -> None:
        if request.resource_type in _RECORDED_TYPES:
            self._started[request] = (time.monotonic(), datetime.now(UTC))
            self.requested[endpoint_of(urlsplit(request.url).path)] += 1

    def _on_response(self, response: Response) -> None:
        if response.request in self._started:
            self._responses[response.request] = response

    def _on_failed(self, request: Request) -> None:
        # Hosts outside the allowlist go to a proxy where nothing listens (see browser.py), so this
        # failure means "blocked": record it whatever kind of resource it was.
        if any(marker in (request.failure or "") for marker in _BLOCKED_FAILURES):
            self._started.pop(request, None)
            self.record_blocked(request.method, request.url, request.resource_type)
            return
        self._on_done(request)

    def _on_done(self, request: Request) -> None:
        started = self._started.pop(request, None)
        if started is None:
            return
        task = asyncio.get_running_loop().create_task(self._record(request, *started))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _record(self, request: Request, t0: float, started_at: datetime) -> None:
        kind = "api" if request.resource_type in ("xhr", "fetch") else "navigation"
        if kind == "navigation" and request.method != "GET":
            kind = "form"
        response = self._responses.pop(request, None)
        failure = request.failure
        duration_ms = (time.monotonic() - t0) * 1000
        path = urlsplit(request.url).path
        endpoint = endpoint_of(path)
        request_headers = request.headers
        content_type = request_headers.get("content-type", "")
        request_body = _decode_body(request.post_data, content_type)
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
                self.raw_responses[endpoint] = response_body
        red = self.redactor
        auth = request_headers.get("authorization")
        call = CapturedCall(
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
            request_headers=red.headers(_interesting(request_headers)),
            request_body=red.value(request_body),
            response_headers=red.headers(_interesting(response_headers)),
            response_body=red.value(response_body),
            redirect_to=red.url(redirect_to) if redirect_to else None,
            failure=failure,
            redacted=red.enabled,
        )
        self._seq += 1
        self.total += 1
        self._calls.append(call.model_copy(update={"seq": self._seq}))
        if self.on_record is not None:
            self.on_record(kind)
        self._changed.set()

    async def _body(self, response: Response, content_type: str) -> Any:
        try:
            raw = await response.body()
        except PlaywrightError:
            return None
        if len(raw) > self.max_body_bytes:
            return {"truncated_bytes": len(raw)}
        return _decode_body(raw, content_type)

    def record_blocked(self, method: str, url: str, resource_type: str) -> None:
        """A request the host guard refused to let leave the browser."""
        self._seq += 1
        self.total += 1
        self.blocked += 1
        if self.on_record is not None:
            self.on_record("blocked")
        self._calls.append(
            CapturedCall(
                seq=self._seq,
                kind="blocked",
                method=method,
                url=self.redactor.url(url),
                path=self.redactor.text(urlsplit(url).path),
                endpoint=f"blocked:{resource_type}",
                started_at=datetime.now(UTC),
                failure="host not allowed",
                redacted=self.redactor.enabled,
            )
        )
        self._changed.set()

    # --- reading ---
    @property
    def last_seq(self) -> int:
        return self._seq

    def after(self, seq: int = 0, limit: int | None = None) -> list[CapturedCall]:
        calls = [c for c in self._calls if c.seq > seq]
        return calls[:limit] if limit else calls

    def latest(self, endpoint: str, after_seq: int = 0) -> CapturedCall | None:
        for call in reversed(self._calls):
            if call.seq <= after_seq:
                return None
            if call.endpoint == endpoint:
                return call
        return None

    async def drain(self, within_s: float = 2.0) -> None:
        """Waits until every finished request has been recorded."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=within_s)

    async def wait_for(self, endpoint: str, after_seq: int, within_s: float) -> CapturedCall | None:
        """The first call to ``endpoint`` recorded after ``after_seq``, waiting up to ``within_s``."""
        deadline = time.monotonic() + within_s
        while True:
            for call in self.after(after_seq):
                if call.endpoint == endpoint:
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return None


_KEPT_HEADERS = {
    "authorization",
    "content-type",
    "location",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
}


def _interesting(headers: dict[str, str]) -> dict[str, str]:
    """Only headers that describe the protocol; the rest is browser noise."""
    return {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
