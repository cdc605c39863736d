"""``engine: auto``: looks at the ticket page over HTTP, before anything consumes the ticket, and picks.

Only GETs are sent (the ticket page and its redirects); no redeem POST and no start-flow, so whichever
engine is chosen finds the ticket unused. ``protocol`` is picked only for a page the protocol engine fully
understands; anything else (a page it cannot place, a Classic page whose Guardian API it cannot locate or
may not reach, a tenant that does not answer) goes to the browser, which is the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.call_log import CallLog
from bridge.errors import BridgeError, InvalidRequestError
from bridge.models import EngineChoice, EngineName, Flavour
from bridge.protocol.classic import service_url_for, ticket_of
from bridge.protocol.http import ProtocolHttp
from bridge.protocol.open import fetch_ticket_page, ticket_scope
from bridge.redact import Redactor
from bridge.settings import BridgeSettings
from bridge.urls import HostPolicy
from bridge.widgets.base import Stopwatch


@dataclass(frozen=True)
class AutoChoice:
    engine: EngineName
    reason: str
    flavour: Flavour | None = None


async def choose_engine(
    ticket_url: str, policy: HostPolicy, timeout_s: float, service_url: str | None = None
) -> AutoChoice:
    redactor = Redactor()
    http = ProtocolHttp(ticket_scope(ticket_url, policy), CallLog(redactor), redactor, Stopwatch(), timeout_s)
    http.begin_step()
    try:
        seen = await fetch_ticket_page(http, ticket_url)
    except BridgeError as exc:
        return AutoChoice("browser", f"the ticket page could not be read over HTTP ({exc.code})")
    finally:
        await http.aclose()
    if seen.flavour is Flavour.CLASSIC:
        declared = seen.config.get("mfaServerUrl")
        if not isinstance(declared, str) and service_url is None:
            return AutoChoice(
                "browser", "Classic widget page that declares no Guardian API address", Flavour.CLASSIC
            )
        base = service_url_for(ticket_url, declared if isinstance(declared, str) else None, service_url)
        if not policy.allows_url(base):
            return AutoChoice(
                "browser", "Classic widget whose Guardian API host is not allowed", Flavour.CLASSIC
            )
        if not ticket_of(ticket_url, seen.config):
            return AutoChoice("browser", "Classic widget page without a ticket", Flavour.CLASSIC)
        return AutoChoice("protocol", "Classic widget page declaring its Guardian API", Flavour.CLASSIC)
    if seen.flavour is Flavour.UNIVERSAL and seen.page is not None:
        page = seen.page
        if page.form is None:
            return AutoChoice("browser", "Universal Login page without a form", Flavour.UNIVERSAL)
        if page.screen in ("redeem", "interstitial", "chooser", "phone"):
            return AutoChoice(
                "protocol",
                f"Universal Login {page.screen} screen with a server-rendered form",
                Flavour.UNIVERSAL,
            )
        return AutoChoice(
            "browser", f"Universal Login screen not expected first ({page.screen})", Flavour.UNIVERSAL
        )
    return AutoChoice("browser", "the ticket page is not one the protocol engine recognises")


async def pick_engine(
    requested: EngineChoice | None,
    ticket_url: str,
    settings: BridgeSettings,
    policy: HostPolicy,
    guardian_url: str | None = None,
) -> tuple[EngineName, str | None]:
    """The engine an enrollment runs on, and why when ``auto`` chose it.

    ``guardian_url`` (the Guardian API base for Classic on the protocol engine) must be an allowed
    host, and means nothing to the browser, which finds its API from the page.
    """
    wanted = requested or settings.default_engine
    if guardian_url is not None:
        if not policy.allows_url(guardian_url) or not guardian_url.startswith(("https://", "http://")):
            raise InvalidRequestError("guardian_url host is not in BRIDGE_ALLOWED_HOSTS")
        if wanted == "browser":
            raise InvalidRequestError("guardian_url applies to the protocol engine only")
    if wanted != "auto":
        return wanted, None
    choice = await choose_engine(ticket_url, policy, settings.step_timeout_s, guardian_url)
    return choice.engine, f"auto: {choice.reason}"
