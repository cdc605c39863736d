"""``/v1/otp-inbox``: where the tenant's SMS hook forwards each one-time code, HMAC-signed."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from bridge.api.deps import InboxDep
from bridge.errors import InvalidRequestError

router = APIRouter(tags=["otp-inbox"])

MAX_BODY_BYTES = 16_384


class InboxReceipt(BaseModel):
    accepted: bool
    matched: bool


@router.post("/v1/otp-inbox", status_code=202)
async def receive(
    request: Request,
    inbox: InboxDep,
    x_signature: str | None = Header(default=None, description="sha256=<hex HMAC-SHA256 of the body>"),
) -> InboxReceipt:
    """Authenticated by its signature (keyed with BRIDGE_OTP_INBOX_SECRET), not by a bearer token:
    the caller is the tenant's Action. ``matched`` tells whether an enrollment was waiting for it."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidRequestError("the message is too large")
    matched = await inbox.accept(raw, x_signature)
    return InboxReceipt(accepted=True, matched=matched)
