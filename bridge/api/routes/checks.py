"""``/v1/checks``: run the widget contract check on this bridge, so a scheduler can call a running one.

The check drives this very app through httpx's ASGI transport with the server's first API token, exactly
as ``guardian-bridge check --bridge`` would over the network, and answers with the recorded contract and,
when a baseline is given, the report of every difference from it.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.api.deps import Authenticated, InboxDep, SettingsDep, presented_token
from bridge.api.routes.enrollments import ERROR_RESPONSES
from bridge.check.codes import OutboxCodes, tenant_origin
from bridge.check.contract import CONTRACT_FORMAT, Contract, build_contract
from bridge.check.engines import engine_differences
from bridge.check.report import Report, make_report
from bridge.check.runner import CheckError, record
from bridge.client import AsyncBridgeClient
from bridge.errors import InboxDisabledError, InvalidRequestError, UpstreamError
from bridge.models import EngineChoice
from bridge.phone import parse_e164
from bridge.settings import BridgeSettings
from bridge.target import EnrollmentTarget
from bridge.urls import HostPolicy, check_ticket_url

router = APIRouter(prefix="/v1/checks", tags=["checks"], dependencies=[Authenticated])


class CreateCheck(EnrollmentTarget):  # ticket_url | user_id: the rule lives there
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone_number: str = Field(min_length=1, max_length=32, description="A test phone, E.164.")
    # The inbox by default: it is what a real tenant can feed (through its forwarding Action); the outbox
    # exists only on the fake tenant, so it must be asked for by name.
    code_source: Literal["inbox", "outbox"] = Field(
        default="inbox",
        description="'inbox' (default): this bridge's OTP inbox (the wrong-code probe is skipped); "
        "'outbox': the fake tenant's test outbox (fake only; the wrong-code probe runs).",
    )
    baseline: dict[str, Any] | None = Field(
        default=None, description="A contract (as written by guardian-bridge check) to compare with."
    )
    engine: EngineChoice | Literal["both"] | None = Field(
        default=None,
        description="The enrollment's engine: browser, protocol or auto (default: the bridge's); 'both': "
        "the browser, then the protocol engine on second_ticket_url (or second_user_id), every difference "
        "between them breaking.",
    )
    second_ticket_url: str | None = Field(
        default=None, description="engine 'both': the protocol run's ticket."
    )
    second_user_id: str | None = Field(default=None, description="engine 'both': or a user to make it for.")


class CheckResult(BaseModel):
    contract: Contract
    report: Report


@router.post("", responses=ERROR_RESPONSES)
async def run_check(
    body: CreateCheck, request: Request, inbox: InboxDep, settings: SettingsDep
) -> CheckResult:
    """Runs one scripted enrollment with every screen recorded (an invalid phone, then the real one; a
    wrong code, then the real one) and returns its contract, compared with ``baseline`` when given."""
    if body.ticket_url is not None:
        # Refused here, as POST /v1/enrollments would, before anything is derived from the URL.
        check_ticket_url(body.ticket_url, HostPolicy.of(settings.allowed_hosts), settings.ticket_paths)
    baseline = _baseline(body.baseline)
    phone = parse_e164(body.phone_number).e164
    codes = None
    if body.code_source == "inbox":
        if not inbox.enabled:
            raise InboxDisabledError("code_source 'inbox' needs BRIDGE_OTP_INBOX_SECRET")
    else:
        origin = tenant_origin(body.ticket_url, settings.auth0_domain)
        if origin is None:
            raise InvalidRequestError("code_source 'outbox' with user_id needs BRIDGE_AUTH0_DOMAIN")
        codes = OutboxCodes(origin, phone)
    transport = httpx.ASGITransport(app=request.app)
    target = EnrollmentTarget.of(body.ticket_url, body.user_id)
    second = _second_target(body, settings)
    async with AsyncBridgeClient(
        # As the caller itself: its enrollments are the caller's, under the caller's limits.
        "http://bridge.local",
        presented_token(request),
        transport=transport,
    ) as client:
        try:
            wait = settings.inbox_wait_s + 30
            engine = "browser" if body.engine == "both" else body.engine
            recording = await record(client, target, phone, codes, inbox_wait_s=wait, engine=engine)
            other = None
            if second is not None:
                other = await record(client, second, phone, codes, inbox_wait_s=wait, engine="protocol")
        except CheckError as exc:
            if exc.cause is not None and exc.cause.status:
                raise exc.cause from None
            raise UpstreamError(f"the check could not run: {exc.message}") from None
    contract = build_contract(recording)
    if baseline is None:
        report = Report(flavour=contract.flavour, breaking=False)
    else:
        report = make_report(baseline, contract, "request baseline")
    if other is not None:
        differing = engine_differences(recording, other)
        report.differences += differing
        report.breaking = report.breaking or bool(differing)
    return CheckResult(contract=contract, report=report)


def _second_target(body: CreateCheck, settings: BridgeSettings) -> EnrollmentTarget | None:
    """The protocol engine's target for ``engine: both`` (tickets are single-use, and the browser's run
    enrolls its user, so it needs one of its own)."""
    if body.engine != "both":
        return None
    try:
        second = EnrollmentTarget.of(body.second_ticket_url, body.second_user_id)
    except ValueError:
        raise InvalidRequestError(
            "engine 'both' needs exactly one of second_ticket_url and second_user_id"
        ) from None
    if second.ticket_url is not None:
        check_ticket_url(second.ticket_url, HostPolicy.of(settings.allowed_hosts), settings.ticket_paths)
    return second


def _baseline(data: dict[str, Any] | None) -> Contract | None:
    if data is None:
        return None
    try:
        contract = Contract.model_validate(data)
    except ValidationError:
        raise InvalidRequestError("baseline is not a contract written by guardian-bridge check") from None
    if contract.format != CONTRACT_FORMAT:
        raise InvalidRequestError(
            f"baseline has contract format {contract.format}, expected {CONTRACT_FORMAT}"
        )
    return contract
