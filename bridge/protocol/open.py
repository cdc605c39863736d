"""Opens a ticket over HTTP and recognises its flavour, returning the protocol driver for it.

The ticket page is fetched with GET (which consumes nothing in either flavour): a page that calls
``new Auth0MFAWidget(...)`` is the Classic widget, driven through the Guardian API; a Universal Login page
(a redeem page, or any ``/u/`` screen after the redirects) is driven by its forms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import httpx

from bridge.artifacts import Artifacts
from bridge.call_log import CallLog
from bridge.errors import UpstreamError
from bridge.models import Flavour
from bridge.protocol.classic import ClassicProtocolDriver, page_config, service_url_for, ticket_of
from bridge.protocol.driver import ProtocolDriver
from bridge.protocol.http import CallSink, ProtocolHttp, Scope, origin_of
from bridge.protocol.pages import Page, read_page
from bridge.protocol.state import ProtocolState
from bridge.protocol.universal import UniversalProtocolDriver
from bridge.redact import Redactor
from bridge.urls import HostPolicy
from bridge.widgets.base import Stopwatch

UL_PREFIX = "/u/"


@dataclass(frozen=True)
class TicketPage:
    """What a GET of the ticket URL showed, before anything consumed the ticket."""

    url: str  # after redirects
    status: int
    html: str
    flavour: Flavour | None
    config: dict[str, object]
    page: Page | None


def ticket_scope(ticket_url: str, policy: HostPolicy) -> Scope:
    """The ticket's own origin, and its route or the ``/u/`` screens for page loads."""
    path = urlsplit(ticket_url).path or "/"
    return Scope(policy, frozenset({origin_of(ticket_url)}), (path, UL_PREFIX))


def recognise(url: str, status: int, html: str) -> TicketPage:
    config = page_config(html) if "Auth0MFAWidget" in html else {}
    if config.get("widget"):
        return TicketPage(url, status, html, Flavour.CLASSIC, config, None)
    page = read_page(url, status, html)
    known = page.screen != "unknown" or urlsplit(url).path.startswith(UL_PREFIX)
    return TicketPage(url, status, html, Flavour.UNIVERSAL if known else None, config, page)


async def fetch_ticket_page(http: ProtocolHttp, ticket_url: str) -> TicketPage:
    response = await http.navigate("GET", ticket_url)
    return recognise(str(response.url), response.status_code, response.text)


async def open_protocol(
    ticket_url: str,
    *,
    policy: HostPolicy,
    timeout_s: float,
    sink: CallSink | None = None,
    redactor: Redactor | None = None,
    service_url: str | None = None,
    artifacts: Artifacts | None = None,
    max_body_bytes: int = 16_384,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProtocolDriver | None:
    """Loads the ticket page and returns its driver; None when the page is no widget this engine knows.

    HTTP failures raise the bridge's ``UpstreamError`` / ``WidgetTimeoutError``.
    """
    redactor = redactor or Redactor()
    http = ProtocolHttp(
        ticket_scope(ticket_url, policy),
        sink if sink is not None else CallLog(redactor),
        redactor,
        Stopwatch(),
        timeout_s,
        max_body_bytes,
        transport=transport,
    )
    http.begin_step()
    try:
        seen = await fetch_ticket_page(http, ticket_url)
        driver = _driver_for(http, ticket_url, seen, service_url, artifacts)
    except BaseException:
        await http.aclose()
        raise
    if driver is None:
        await http.aclose()
        if artifacts is not None:  # what was not recognised, for whoever looks into it
            artifacts.write("unrecognized.html", redactor.text(seen.html).encode())
    return driver


def _driver_for(
    http: ProtocolHttp,
    ticket_url: str,
    seen: TicketPage,
    service_url: str | None,
    artifacts: Artifacts | None,
) -> ProtocolDriver | None:
    if seen.flavour is Flavour.CLASSIC:
        declared = seen.config.get("mfaServerUrl")
        base = service_url_for(ticket_url, declared if isinstance(declared, str) else None, service_url)
        if not http.scope.policy.allows_url(base):
            raise UpstreamError("the widget's Guardian API host is not in BRIDGE_ALLOWED_HOSTS")
        http.scope = replace(http.scope, origins=http.scope.origins | {origin_of(base)})
        dictionary = seen.config.get("dictionary")
        state = ProtocolState(
            flavour=Flavour.CLASSIC,
            ticket_url=ticket_url,
            service_url=base,
            messages=dictionary if isinstance(dictionary, dict) else {},
        )
        return ClassicProtocolDriver(http, state, ticket_of(ticket_url, seen.config), artifacts=artifacts)
    if seen.flavour is Flavour.UNIVERSAL and seen.page is not None:
        state = ProtocolState(flavour=Flavour.UNIVERSAL, ticket_url=ticket_url)
        return UniversalProtocolDriver(http, state, seen.page, seen.html, artifacts)
    return None


async def resume_protocol(
    state: ProtocolState,
    *,
    policy: HostPolicy,
    timeout_s: float,
    sink: CallSink | None = None,
    redactor: Redactor | None = None,
    artifacts: Artifacts | None = None,
    max_body_bytes: int = 16_384,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProtocolDriver:
    """A driver that goes on from ``state`` (``ProtocolState.from_json``), in this process or another.

    Classic needs nothing but the state's tokens. Universal Login loads the current screen again with
    the state's cookies: a GET of a ``/u/`` screen shows where the flow is and changes nothing.
    """
    redactor = redactor or Redactor()
    for secret in (state.transaction_token, state.recovery_code, state.phone_number):
        redactor.add_secret(secret)
    scope = ticket_scope(state.ticket_url, policy)
    if state.service_url:
        scope = replace(scope, origins=scope.origins | {origin_of(state.service_url)})
    http = ProtocolHttp(
        scope,
        sink if sink is not None else CallLog(redactor),
        redactor,
        Stopwatch(),
        timeout_s,
        max_body_bytes,
        cookies=state.cookies,
        transport=transport,
    )
    if state.flavour is Flavour.CLASSIC:
        return ClassicProtocolDriver(http, state, None, artifacts=artifacts)
    if not state.page_url:
        await http.aclose()
        raise UpstreamError("the saved Universal Login state has no current screen")
    http.begin_step()
    try:
        response = await http.navigate("GET", state.page_url)
    except BaseException:
        await http.aclose()
        raise
    page = read_page(str(response.url), response.status_code, response.text)
    return UniversalProtocolDriver(http, state, page, response.text, artifacts)
