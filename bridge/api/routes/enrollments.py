"""``/v1/enrollments``: start an enrollment and relay each of its steps."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from bridge import models as m
from bridge.access import Caller
from bridge.api.deps import (
    Authenticated,
    CallerDep,
    CreationLimited,
    InboxDep,
    RegistryDep,
    SettingsDep,
    StreamsDep,
    TicketsDep,
)
from bridge.api.schemas import CreateEnrollment, SubmitCode, SubmitPhone
from bridge.cluster.routing import route_enrollment
from bridge.engine import SessionOptions
from bridge.enrollment import EnrollmentSession
from bridge.errors import (
    BridgeError,
    EnrollmentNotFoundError,
    InboxDisabledError,
    InvalidRequestError,
    NotFoundError,
)
from bridge.phone import parse_e164
from bridge.protocol.auto import pick_engine
from bridge.registry import Registry
from bridge.tickets import require_issuer
from bridge.urls import HostPolicy, check_ticket_url

# Authenticated here too: a route added without a caller parameter is still behind the token.
# route_enrollment: drain refusals, and in cluster mode requests for enrollments held by other replicas.
router = APIRouter(
    prefix="/v1/enrollments", tags=["enrollments"], dependencies=[Authenticated, Depends(route_enrollment)]
)

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"description": text}
    for code, text in {
        401: "unauthorized",
        404: "enrollment_not_found",
        409: "step_out_of_order",
        410: "enrollment_expired",
        422: "invalid_request / ticket_url_rejected",
        429: "session_limit / rate_limited (with Retry-After)",
        502: "widget_unrecognized",
        503: "browser_unavailable",
        504: "widget_timeout",
    }.items()
}


@router.post("", status_code=201, responses=ERROR_RESPONSES, dependencies=[CreationLimited])
async def create_enrollment(
    request: Request,
    body: CreateEnrollment,
    registry: RegistryDep,
    settings: SettingsDep,
    inbox: InboxDep,
    tickets: TicketsDep,
    caller: CallerDep,
) -> m.Enrollment:
    """Opens the ticket in a fresh browser context and runs until phone entry (or code entry when
    ``phone_number`` is given)."""
    phone = parse_e164(body.phone_number) if body.phone_number else None
    if body.code_source == "inbox":
        if not inbox.enabled:
            raise InboxDisabledError("code_source 'inbox' needs BRIDGE_OTP_INBOX_SECRET")
        if phone is None:
            raise InvalidRequestError("code_source 'inbox' needs phone_number")
    if body.user_id is not None:
        ticket_url = await require_issuer(tickets).create_ticket_url(body.user_id)
    else:
        assert body.ticket_url is not None  # the schema requires exactly one of the two
        ticket_url = body.ticket_url
    policy = HostPolicy.of(settings.allowed_hosts)
    check_ticket_url(ticket_url, policy, settings.ticket_paths)
    engine, reason = await pick_engine(body.engine, ticket_url, settings, policy, body.guardian_url)
    session = await registry.create(
        body.code_source,
        body.record_screens,
        engine=engine,
        engine_reason=reason,
        options=SessionOptions(guardian_url=body.guardian_url),
        owner=caller.owner,
        user_id=body.user_id or body.ticket_user_id,
        reserved_id=getattr(request.state, "reserved_enrollment_id", None),  # cluster mode's admission
    )
    await session.start(ticket_url)
    if phone is not None and session.state is m.EnrollmentState.AWAITING_PHONE:
        await session.submit_phone(phone, body.channel)
    return session.view()


def _own(registry: Registry, enrollment_id: str, caller: Caller) -> EnrollmentSession:
    """Pictures of the page are the owner's alone (not even an admin token's): they show the screen."""
    session = registry.get(enrollment_id, caller)
    if session.owner != caller.owner:
        raise EnrollmentNotFoundError("no enrollment with this id", enrollment_id=enrollment_id)
    return session


@router.get("", responses=ERROR_RESPONSES)
async def list_enrollments(registry: RegistryDep, caller: CallerDep) -> m.EnrollmentList:
    """This token's enrollments (an admin token's: everyone's)."""
    return m.EnrollmentList(enrollments=[s.view() for s in registry.all(caller)])


@router.get("/{enrollment_id}", responses=ERROR_RESPONSES)
async def get_enrollment(enrollment_id: str, registry: RegistryDep, caller: CallerDep) -> m.Enrollment:
    return registry.get(enrollment_id, caller).view()


@router.post("/{enrollment_id}/phone", responses=ERROR_RESPONSES)
async def submit_phone(
    enrollment_id: str, body: SubmitPhone, registry: RegistryDep, caller: CallerDep
) -> m.Enrollment:
    session = registry.get(enrollment_id, caller)
    try:
        phone = parse_e164(body.phone_number)
    except BridgeError as exc:
        exc.enrollment_id = enrollment_id
        raise
    await session.submit_phone(phone, body.channel or session.channel)
    return session.view()


@router.post("/{enrollment_id}/code", responses=ERROR_RESPONSES)
async def submit_code(
    enrollment_id: str, body: SubmitCode, registry: RegistryDep, caller: CallerDep
) -> m.Enrollment:
    session = registry.get(enrollment_id, caller)
    await session.submit_code(body.code)
    return session.view()


@router.post("/{enrollment_id}/resend", responses=ERROR_RESPONSES)
async def resend(enrollment_id: str, registry: RegistryDep, caller: CallerDep) -> m.Enrollment:
    session = registry.get(enrollment_id, caller)
    await session.resend()
    return session.view()


@router.delete("/{enrollment_id}", status_code=204, responses=ERROR_RESPONSES)
async def cancel(enrollment_id: str, registry: RegistryDep, caller: CallerDep) -> Response:
    await registry.cancel(enrollment_id, caller)
    return Response(status_code=204)


@router.get("/{enrollment_id}/calls", responses=ERROR_RESPONSES)
async def calls(
    enrollment_id: str,
    registry: RegistryDep,
    caller: CallerDep,
    after: int = Query(default=0, ge=0, description="Return calls with seq greater than this."),
    limit: int = Query(default=100, ge=1, le=1000),
) -> m.CallPage:
    page = await registry.get(enrollment_id, caller).calls_after(after, limit)
    return m.CallPage(calls=page, next_after=page[-1].seq if page else after)


@router.get("/{enrollment_id}/screens", responses=ERROR_RESPONSES)
async def screens(enrollment_id: str, registry: RegistryDep, caller: CallerDep) -> m.ScreenList:
    """The screens reached so far (only for enrollments started with ``record_screens``)."""
    return m.ScreenList(screens=registry.get(enrollment_id, caller).screens())


@router.get(
    "/{enrollment_id}/screens/{index}/screenshot",
    responses={**ERROR_RESPONSES, 200: {"content": {"image/png": {}}}},
    response_class=Response,
)
async def screen_screenshot(
    enrollment_id: str, index: int, registry: RegistryDep, caller: CallerDep
) -> Response:
    png = _own(registry, enrollment_id, caller).screen_png(index)
    if png is None:
        raise NotFoundError("no screenshot for this screen", enrollment_id=enrollment_id)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get(
    "/{enrollment_id}/screenshot",
    responses={**ERROR_RESPONSES, 200: {"content": {"image/png": {}}}},
    response_class=Response,
)
async def screenshot(enrollment_id: str, registry: RegistryDep, caller: CallerDep) -> Response:
    png = await _own(registry, enrollment_id, caller).screenshot()
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get(
    "/{enrollment_id}/events",
    responses={**ERROR_RESPONSES, 200: {"content": {"text/event-stream": {}}}},
    response_class=StreamingResponse,
)
async def events(
    enrollment_id: str,
    registry: RegistryDep,
    caller: CallerDep,
    streams: StreamsDep,
    after: int = Query(default=0, ge=0),
    last_event_id: int | None = Header(default=None),
) -> StreamingResponse:
    """Server-sent events: ``state`` and ``step`` entries, from the beginning (or ``after``); the
    stream ends once the enrollment is finished. Open streams are capped per enrollment and per token
    (``429 rate_limited`` beyond)."""
    session = registry.get(enrollment_id, caller)
    cursor = last_event_id if last_event_id is not None else after
    lease = streams.open(session.id, caller.owner)

    async def stream() -> AsyncIterator[str]:
        with lease:
            async for event in session.follow_events(cursor):
                if event is None:
                    yield ": keep-alive\n\n"
                    continue
                data = json.dumps(event.model_dump(mode="json")["data"], separators=(",", ":"))
                yield f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
