"""HTTP for the protocol engine: one client per enrollment, the host guard on every hop, capture, errors.

Policy lives here so the drivers never see a socket: each request is checked against the host allowlist
and the enrollment's route scope (redirects are followed by hand so every hop is checked, which httpx's
own redirect following would not let us do), timed against the step's deadline, recorded as a redacted
``CapturedCall`` in the browser capture's shape, and any httpx failure is translated once into the
bridge's ``UpstreamError`` or ``WidgetTimeoutError``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from bridge import __version__
from bridge.call_log import endpoint_of
from bridge.errors import UpstreamError, WidgetTimeoutError
from bridge.models import CapturedCall
from bridge.redact import Redactor
from bridge.urls import HostPolicy
from bridge.widgets.base import Stopwatch

CallKind = Literal["api", "form", "navigation"]
MAX_HOPS = 10
_REDIRECTS = {301, 302, 303, 307, 308}
_KEPT_HEADERS = {"authorization", "content-type", "location"}
POOL_SHARDS = 4
# httpx's default pool limits, divided among the shards.
MAX_CONNECTIONS, MAX_KEEPALIVE, KEEPALIVE_EXPIRY_S = 100, 20, 5.0
# Honest about what it is: the tenant sees a client that is not a browser.
USER_AGENT = f"guardian-bridge/{__version__} (protocol engine; +https://auth0.com/docs)"


class CallSink(Protocol):
    def add(self, call: CapturedCall) -> CapturedCall: ...


class HopRefusedError(UpstreamError):
    """A request or redirect hop to a host or route outside what this enrollment may reach."""

    code = "upstream_error"


@dataclass(frozen=True)
class Scope:
    """Where one enrollment may go: allowed hosts (the allowlist) and, within them, its own origins.

    Every hop must pass the allowlist (exactly as the browser's guard) and stay on one of ``origins``;
    page navigations must also stay on the ticket's route or the ``/u/`` screens.
    """

    policy: HostPolicy
    origins: frozenset[str]
    page_paths: tuple[str, ...]

    def refusal(self, url: str, navigation: bool) -> str | None:
        """Why ``url`` may not be requested, or None when it may."""
        parts = urlsplit(url)
        if not self.policy.allows_url(url) or parts.scheme not in ("http", "https"):
            return "host not allowed"
        if origin_of(url) not in self.origins:
            return "origin outside this enrollment"
        if navigation and not any(parts.path == p or parts.path.startswith(p) for p in self.page_paths):
            return "route outside the enrollment pages"
        return None


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _decode(raw: bytes, content_type: str, limit: int) -> Any:
    if not raw:
        return None
    if len(raw) > limit:
        return {"truncated_bytes": len(raw)}
    text = raw.decode("utf-8", "replace")
    if "json" in content_type or text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


@contextmanager
def translate_httpx_errors(what: str) -> Iterator[None]:
    """The one place httpx's exceptions become the bridge's (no URL or secret in the message)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise WidgetTimeoutError(f"the tenant did not answer in time ({what})") from exc
    except httpx.HTTPError as exc:
        raise UpstreamError(f"the tenant could not be reached ({what}): {type(exc).__name__}") from exc


class SharedPool:
    """The connection pools every enrollment's client shares, owned by the engine.

    Each enrollment keeps its own ``httpx.AsyncClient`` (its cookies, its deadline, its capture); only
    the sockets and the TLS set-up are shared, so an enrollment costs neither a handshake nor a TLS
    context of its own. The sockets are split over ``shards`` pools because httpcore's pool examines
    every connection it holds on each request, and each idle one against all the others (with a
    ``poll`` of its socket): at 16 enrollments in flight that scan took a fifth of the server's CPU.
    An enrollment leases the shard with the fewest enrollments for its whole life, so its requests
    reuse that shard's connections, and a lone enrollment always gets the first shard, as it got the
    one pool before. httpx's default limits are divided among the shards, so the totals are the same.
    """

    def __init__(self, shards: int = POOL_SHARDS) -> None:
        limits = httpx.Limits(
            max_connections=MAX_CONNECTIONS // shards,
            max_keepalive_connections=MAX_KEEPALIVE // shards,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
        )
        tls = httpx.create_ssl_context()  # one context (CA bundle loaded once) for every shard
        self._shards = [httpx.AsyncHTTPTransport(verify=tls, limits=limits) for _ in range(shards)]
        self._leases = [0] * shards

    def lease(self) -> PoolLease:
        """A transport for one enrollment's client, on the least busy shard until the client closes."""
        index = min(range(len(self._leases)), key=self._leases.__getitem__)
        self._leases[index] += 1

        def release() -> None:
            self._leases[index] -= 1

        return PoolLease(self._shards[index], release)

    async def close(self) -> None:
        for shard in self._shards:
            await shard.aclose()


class PoolLease(httpx.AsyncBaseTransport):
    """One enrollment's transport: a shard of the ``SharedPool``. Closing it (as its client closes)
    returns the lease and leaves the shard open."""

    def __init__(self, transport: httpx.AsyncHTTPTransport, release: Callable[[], None]) -> None:
        self._transport = transport
        self._release: Callable[[], None] | None = release

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._release is not None:  # once, however often the client closes
            self._release()
            self._release = None


class ProtocolHttp:
    """One enrollment's HTTP client: cookies kept, no environment proxies, every exchange captured."""

    def __init__(
        self,
        scope: Scope,
        sink: CallSink,
        redactor: Redactor,
        clock: Stopwatch,
        timeout_s: float,
        max_body_bytes: int = 16_384,
        cookies: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.scope = scope
        self.sink = sink
        self.redactor = redactor
        self.clock = clock
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self._deadline: float | None = None
        # trust_env=False: no HTTP(S)_PROXY, no .netrc; redirects are followed by ``navigate``.
        self.client = httpx.AsyncClient(
            trust_env=False,
            follow_redirects=False,
            cookies=cookies,
            headers={"User-Agent": USER_AGENT},
            timeout=timeout_s,
            transport=transport,
        )

    # --- step deadline ---
    def begin_step(self) -> None:
        """Every request until the next call shares one step's time budget."""
        self._deadline = time.monotonic() + self.timeout_s

    def _timeout(self) -> float:
        if self._deadline is None:
            return self.timeout_s
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise WidgetTimeoutError("the step ran out of time")
        return remaining

    def cookies(self) -> dict[str, str]:
        return {name: value for name, value in self.client.cookies.items() if value is not None}

    async def aclose(self) -> None:
        self.client.cookies.clear()  # no cookie outlives the enrollment
        await self.client.aclose()

    # --- requests ---
    async def api(
        self, url: str, body: dict[str, Any] | None, authorization: str
    ) -> tuple[httpx.Response, Any]:
        """A JSON POST (the Guardian API); returns the response and its decoded body."""
        headers = {
            "Authorization": authorization,
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
        }
        content = json.dumps(body).encode() if body is not None else b""
        response = await self._send("POST", url, "api", headers, content, body)
        decoded = _decode(response.content, response.headers.get("content-type", ""), 1 << 20)
        return response, decoded

    async def navigate(
        self, method: str, url: str, form: list[tuple[str, str]] | None = None
    ) -> httpx.Response:
        """A page load or form POST, following redirects hop by hop as a browser does."""
        kind: CallKind = "form" if method == "POST" else "navigation"
        content = urlencode(form).encode() if form is not None else None
        headers = {"Accept": "text/html,application/xhtml+xml"}
        if content is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        shown = dict(form) if form is not None else None
        for _ in range(MAX_HOPS):
            response = await self._send(method, url, kind, headers, content, shown)
            if response.status_code not in _REDIRECTS or "location" not in response.headers:
                return response
            url = urljoin(url, response.headers["location"])
            if response.status_code not in (307, 308):
                method, kind, content, shown = "GET", "navigation", None, None
                headers.pop("Content-Type", None)
        raise UpstreamError("the tenant redirected too many times")

    async def _send(
        self,
        method: str,
        url: str,
        kind: CallKind,
        headers: dict[str, str],
        content: bytes | None,
        shown_body: Any,
    ) -> httpx.Response:
        refusal = self.scope.refusal(url, navigation=kind != "api")
        if refusal is not None:
            self._record_blocked(method, url, refusal)
            raise HopRefusedError(f"a request was refused: {refusal}")
        started_at, t0 = datetime.now(UTC), time.monotonic()
        request = self.client.build_request(
            method, url, headers=headers, content=content, timeout=self._timeout()
        )
        try:
            async with self.clock.waiting():
                with translate_httpx_errors(endpoint_of(urlsplit(url).path)):
                    response = await self.client.send(request)
                    await response.aread()
        except (UpstreamError, WidgetTimeoutError) as exc:
            failure = "timed out" if isinstance(exc, WidgetTimeoutError) else "connection failed"
            self._record(request, None, kind, shown_body, started_at, t0, failure)
            raise
        self._record(request, response, kind, shown_body, started_at, t0, None)
        return response

    # --- capture ---
    def _record(
        self,
        request: httpx.Request,
        response: httpx.Response | None,
        kind: CallKind,
        request_body: Any,
        started_at: datetime,
        t0: float,
        failure: str | None,
    ) -> None:
        red = self.redactor
        url = str(request.url)
        path = urlsplit(url).path
        status = response.status_code if response is not None else None
        response_body: Any = None
        redirect_to = None
        if response is not None and status is not None:
            if status in _REDIRECTS:
                location = response.headers.get("location")
                redirect_to = urljoin(url, location) if location else None
            elif kind == "api":
                response_body = _decode(
                    response.content, response.headers.get("content-type", ""), self.max_body_bytes
                )
        auth = request.headers.get("authorization")
        call = CapturedCall(
            seq=0,
            kind=kind,
            method=request.method,
            url=red.url(url),
            path=red.text(path),
            endpoint=endpoint_of(path),
            status=status,
            started_at=started_at,
            duration_ms=round((time.monotonic() - t0) * 1000, 1),
            auth_scheme=auth.split(" ", 1)[0] if auth else None,
            request_headers=red.headers(_kept(request.headers)),
            request_body=red.value(request_body),
            response_headers=red.headers(_kept(response.headers) if response is not None else {}),
            response_body=red.value(response_body),
            redirect_to=red.url(redirect_to) if redirect_to else None,
            failure=failure,
            redacted=red.enabled,
        )
        self.sink.add(call)

    def _record_blocked(self, method: str, url: str, reason: str) -> None:
        self.sink.add(
            CapturedCall(
                seq=0,
                kind="blocked",
                method=method,
                url=self.redactor.url(url),
                path=self.redactor.text(urlsplit(url).path),
                endpoint="blocked:document",
                started_at=datetime.now(UTC),
                failure=reason,
                redacted=self.redactor.enabled,
            )
        )


def _kept(headers: httpx.Headers) -> dict[str, str]:
    # One pass in the message's order (``dict(headers)`` searched the whole list once per name).
    return {name: value for name, value in headers.items() if name in _KEPT_HEADERS}
