"""The Classic flavour over plain HTTP: the Guardian API calls the widget's script makes, made directly.

As Auth0's own clients do it (auth0-guardian-js, Guardian.java; see docs/engines.md): ``start-flow`` with
``Authorization: Ticket id="…"`` and the polling transport; ``sms-enroll`` on the device account with the
transaction token; ``verify-otp`` with ``manual_input``; resend is ``sms-enroll`` again. The recovery code
comes with start-flow and is handed out only after a code was accepted. Error codes map to the outcome
codes the browser engine reports, and the widget's message is the page's own dictionary text for it.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from selectolax.lexbor import LexborHTMLParser

from bridge.artifacts import Artifacts
from bridge.errors import UpstreamError, WidgetTimeoutError
from bridge.models import Channel, Flavour
from bridge.outcomes import Outcome
from bridge.phone import PhoneNumber
from bridge.protocol.driver import ProtocolDriver
from bridge.protocol.http import ProtocolHttp
from bridge.protocol.state import ProtocolState
from bridge.widgets import texts as t

_WIDGET_CALL = re.compile(r"Auth0MFAWidget\s*\(")
_OPTION = r"""["']?{name}["']?\s*:\s*(["'])(?P<value>(?:\\.|(?!\1).)*)\1"""
# Auth0's regional tenant hosts: {tenant}.auth0.com, {tenant}.{region}.auth0.com.
_AUTH0_HOST = re.compile(r"^(?P<tenant>[a-z0-9-]+)(?:\.(?P<region>[a-z]{2}))?\.auth0\.com$")


def page_config(html: str) -> dict[str, Any]:
    """The options the hosted page passes to ``new Auth0MFAWidget({...})``, those the engine needs.

    The template is Liquid-rendered JavaScript, not JSON, so each option is read on its own: quoted or
    bare key, single or double quoted value. Only the inline scripts are looked at.
    """
    tree = LexborHTMLParser(html)
    found: dict[str, Any] = {}
    for script in tree.css("script"):
        source = script.text() or ""
        if not _WIDGET_CALL.search(source):
            continue
        found["widget"] = True
        for name in ("mfaServerUrl", "ticket", "requestToken"):
            match = re.search(_OPTION.format(name=name), source)
            if match:
                found[name] = match.group("value").replace("\\/", "/")
        found["dictionary"] = _error_messages(source)
    return found


def _error_messages(source: str) -> dict[str, str]:
    """``languageDictionary.errorMessages`` when the page states it as JSON (the fake and most pages)."""
    match = re.search(r'"errorMessages"\s*:\s*(\{[^{}]*\})', source)
    if not match:
        return {}
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return {}
    return {str(k): re.sub(r"<[^>]+>", " ", str(v)) for k, v in value.items()}


def service_url_for(ticket_url: str, declared: str | None, override: str | None = None) -> str:
    """The Guardian API base: given per request, else as the page declares it, else by Auth0's rules.

    An ``*.auth0.com`` tenant's Guardian host is ``{tenant}.guardian[.{region}].auth0.com``; a custom
    domain serves it under ``/guardian/`` (Auth0's Guardian SDK installation docs).
    """
    if override:
        return override.rstrip("/") + "/"
    if declared:
        return declared.rstrip("/") + "/"
    parts = urlsplit(ticket_url)
    host = (parts.hostname or "").lower()
    match = _AUTH0_HOST.match(host)
    if match:
        region = f".{match.group('region')}" if match.group("region") else ""
        return f"https://{match.group('tenant')}.guardian{region}.auth0.com/"
    return f"{parts.scheme}://{parts.netloc}/guardian/"


def ticket_of(ticket_url: str, config: dict[str, Any]) -> str | None:
    declared = config.get("ticket")
    if isinstance(declared, str) and declared:
        return declared
    return dict(parse_qsl(urlsplit(ticket_url).query)).get("ticket")


def _camel(code: str) -> str:
    head, *rest = code.split("_")
    return head + "".join(part.title() for part in rest)


class ClassicProtocolDriver(ProtocolDriver):
    flavour = Flavour.CLASSIC

    def __init__(
        self,
        http: ProtocolHttp,
        state: ProtocolState,
        ticket: str | None,
        dictionary: dict[str, str] | None = None,
        artifacts: Artifacts | None = None,
    ) -> None:
        super().__init__(http, state, artifacts)
        self.ticket = ticket
        self.dictionary = dictionary or state.messages

    async def screen_name(self) -> str:
        return {"opened": "phone", "phone": "code", "code": "code", "done": "congrats"}[self.state.step]

    # --- steps ---
    async def ready(self) -> Outcome:
        self.http.begin_step()
        if not self.ticket:
            return Outcome.error("widget_unrecognized", None)
        self.http.redactor.add_secret(self.ticket)
        try:
            response, body = await self._call(
                "api/start-flow", {"state_transport": "polling"}, f'Ticket id="{self.ticket}"'
            )
        except (UpstreamError, WidgetTimeoutError) as exc:
            return self.upstream_outcome(exc)
        if response >= 400:
            return self._failure(body, after_start=False)
        if not isinstance(body, dict):
            return Outcome.error("widget_unrecognized", None)
        account = body.get("device_account") if isinstance(body.get("device_account"), dict) else {}
        assert isinstance(account, dict)
        status = account.get("status")
        # Guardian.java: anything but confirmation_pending; guardian.js: no enrollment_tx_id.
        if status not in (None, "confirmation_pending") or (
            status is None and "enrollment_tx_id" not in body
        ):
            return self._error("already_enrolled", "enrollment_conflict")
        token, account_id = body.get("transaction_token"), account.get("id")
        if not isinstance(token, str) or not isinstance(account_id, str):
            return Outcome.error("widget_unrecognized", None)
        recovery = account.get("recovery_code")
        self.http.redactor.add_secret(token)
        self.http.redactor.add_secret(recovery if isinstance(recovery, str) else None)
        settings = body.get("factor_settings") if isinstance(body.get("factor_settings"), dict) else {}
        assert isinstance(settings, dict)
        phone_settings = settings.get("phone") if isinstance(settings.get("phone"), dict) else {}
        assert isinstance(phone_settings, dict)
        otp_length = phone_settings.get("otp_length")
        self.state.transaction_token = token
        self.state.device_account_id = account_id
        self.state.recovery_code = recovery if isinstance(recovery, str) else None
        self.state.otp_length = otp_length if isinstance(otp_length, int) and otp_length > 0 else 6
        await self._observe("phone")
        return Outcome("ok")

    async def submit_phone(self, phone: PhoneNumber, channel: Channel) -> Outcome:
        if channel != "sms":
            return Outcome("rejected", "channel_unsupported", "The Classic widget enrolls by SMS only")
        self.http.begin_step()
        outcome = await self._sms_enroll(phone.e164)
        if outcome.kind == "ok":
            self.state.phone_number = phone.e164
            self.state.step = "phone"
        return outcome

    async def resend(self) -> Outcome:
        self.http.begin_step()
        if self.state.phone_number is None:
            return Outcome.error("widget_unrecognized", None)
        return await self._sms_enroll(self.state.phone_number)

    async def submit_code(self, code: str) -> Outcome:
        # guardian.js checks the format itself and sends nothing when it is wrong.
        if not re.fullmatch(rf"\d{{{self.state.otp_length}}}", code):
            return self._error("invalid_otp_format", "invalid_otp_format")
        self.http.begin_step()
        try:
            status, body = await self._call(
                "api/verify-otp", {"type": "manual_input", "code": code}, self._bearer()
            )
        except (UpstreamError, WidgetTimeoutError) as exc:
            return self.upstream_outcome(exc)
        if status >= 400:
            return self._failure(body, after_start=True)
        self.state.step = "done"
        await self._observe("recovery")
        return Outcome("ok", recovery_code=self.state.recovery_code)

    # --- helpers ---
    async def _sms_enroll(self, number: str) -> Outcome:
        account = quote(self.state.device_account_id or "", safe="")
        try:
            status, body = await self._call(
                f"api/device-accounts/{account}/sms-enroll", {"phone_number": number}, self._bearer()
            )
        except (UpstreamError, WidgetTimeoutError) as exc:
            return self.upstream_outcome(exc)
        if status >= 400:
            return self._failure(body, after_start=True)
        return Outcome("ok")

    def _bearer(self) -> str:
        return f"Bearer {self.state.transaction_token or ''}"

    async def _call(self, path: str, body: dict[str, Any], authorization: str) -> tuple[int, Any]:
        url = (self.state.service_url or "") + path
        response, decoded = await self.http.api(url, body, authorization)
        return response.status_code, decoded

    def _failure(self, body: Any, after_start: bool) -> Outcome:
        """A Guardian error answer as the outcome the browser engine would report for it."""
        error_code = body.get("errorCode") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(error_code, str):
            # A bare 5xx (Guardian's text/plain "Internal server error"): the caller may try again.
            return Outcome.error("upstream_error", None)
        # One mapping for both engines (bridge/widgets/texts.py): after start-flow an invalid token is
        # the transaction's, disabled factors and removed enrollments end the enrollment clearly.
        text = message if isinstance(message, str) else None
        code = t.classify_api_error(error_code, text, after_start=after_start)
        return self._error(code or "widget_error", error_code)

    def _error(self, code: str, api_code: str) -> Outcome:
        """The outcome, with the widget's own text for it from the page's language dictionary."""
        keys = {
            "transaction_expired": "enrollmentTransactionNotFound",
            "already_enrolled": "enrollmentConflict",
        }
        message = self.dictionary.get(_camel(api_code)) or self.dictionary.get(keys.get(code, ""))
        return Outcome.error(code, message)  # type: ignore[arg-type]  # codes come from our tables

    async def _observe(self, screen: str) -> None:
        if self.observer is not None:
            await self.observer(screen)
