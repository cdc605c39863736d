"""An enrollment's log of the widget's calls, whatever engine made them: redacted, bounded, read by cursor.

Engine-neutral: the browser engine's Playwright listener (``bridge.capture``) and a non-browser engine
both turn each request into a ``CapturedCall`` and ``record`` it here, so ``GET .../calls`` reads the same
either way. Calls get their ``seq`` when recorded (when they finish), so a cursor (``after(seq)``) never
skips a call that was still in flight.
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

from bridge.models import CapturedCall
from bridge.redact import Redactor

_API_PATH = re.compile(r"/api/(?P<rest>[\w\-/.%]+)$")
_DEVICE_ACCOUNT_STEP = re.compile(r"^device-accounts/[^/]+/(?P<step>[\w-]+)$")

_KEPT_HEADERS = {
    "authorization",
    "content-type",
    "location",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
}


def endpoint_of(path: str) -> str:
    """A short stable name for a call: ``start-flow``, ``sms-enroll``, ``u/mfa-sms-enrollment``..."""
    match = _API_PATH.search(path)
    if match:
        rest = match.group("rest")
        step = _DEVICE_ACCOUNT_STEP.match(rest)
        return step.group("step") if step else rest
    return path.strip("/") or "/"


def decode_body(raw: str | bytes | None, content_type: str) -> Any:
    """A request or response body as JSON, a form's fields, or text."""
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


def interesting_headers(headers: dict[str, str]) -> dict[str, str]:
    """Only headers that describe the protocol; the rest is client noise."""
    return {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}


class CallLog:
    def __init__(
        self,
        redactor: Redactor,
        max_calls: int = 200,
        max_body_bytes: int = 16_384,
        on_record: Callable[[str], None] | None = None,
    ) -> None:
        self.redactor = redactor
        self.max_body_bytes = max_body_bytes
        self._calls: deque[CapturedCall] = deque(maxlen=max_calls)
        self._seq = 0
        self._pending: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        # Told the kind of every recorded call (metrics).
        self._on_record = on_record
        # Raw (unredacted) JSON of the latest response per endpoint, for the widget driver only: the
        # Classic widget's outcomes (a 204 vs a 401) and its recovery code live in these responses.
        self.raw_responses: dict[str, Any] = {}
        # Endpoints the client has started calling, before they finish (flavour detection needs this).
        self.requested: Counter[str] = Counter()
        # Page loads (documents) started and not yet finished: a page that submitted itself to a slow
        # server is still on its way, and pressing its button again would post a used state.
        self.documents_in_flight = 0
        self.total = 0
        self.blocked = 0

    # --- writing ---
    def record(self, call: CapturedCall) -> CapturedCall:
        """Stores ``call`` (already redacted by its engine) under the next sequence number."""
        self._seq += 1
        self.total += 1
        if call.kind == "blocked":
            self.blocked += 1
        stored = call.model_copy(update={"seq": self._seq})
        self._calls.append(stored)
        if self._on_record is not None:
            self._on_record(call.kind)
        self._changed.set()
        return stored

    add = record  # the name the protocol engine's HTTP layer sinks calls into

    def record_blocked(self, method: str, url: str, resource_type: str) -> None:
        """A request the host guard refused to let leave the client."""
        self.record(
            CapturedCall(
                seq=0,
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

    def track(self, task: asyncio.Task[None]) -> None:
        """A recording still under way (reading a body); ``drain`` waits for it."""
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def restore(self, earlier: list[CapturedCall]) -> None:
        """Puts ``earlier`` (calls captured by the replica that ran this enrollment until now) before the
        calls recorded here, numbered on from them, so a reader's ``after`` cursor still works."""
        if not earlier:
            return
        base = earlier[-1].seq
        mine = [c.model_copy(update={"seq": base + n}) for n, c in enumerate(self._calls, start=1)]
        self._calls.clear()
        self._calls.extend([*earlier, *mine])
        self._seq = base + len(mine)
        self.total += len(earlier)
        self.blocked += sum(c.kind == "blocked" for c in earlier)
        self._changed.set()

    def forget_raw(self) -> None:
        """Unredacted responses were only needed to drive the widget; do not keep them around."""
        self.raw_responses.clear()

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
