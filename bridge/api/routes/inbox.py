"""``/v1/otp-inbox``: where the tenant's SMS hook forwards each one-time code, HMAC-signed."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from bridge.api.deps import InboxDep, RegistryDep
from bridge.errors import BridgeError, InvalidRequestError, InvalidSignatureError

log = logging.getLogger("bridge.inbox")

router = APIRouter(tags=["otp-inbox"])

MAX_BODY_BYTES = 16_384


class InboxReceipt(BaseModel):
    accepted: bool
    matched: bool


@router.post("/v1/otp-inbox", status_code=202)
async def receive(
    request: Request,
    inbox: InboxDep,
    registry: RegistryDep,
    x_signature: str | None = Header(default=None, description="sha256=<hex HMAC-SHA256 of the body>"),
) -> InboxReceipt:
    """Authenticated by its signature (keyed with BRIDGE_OTP_INBOX_SECRET), not by a bearer token:
    the caller is the tenant's Action. ``matched`` tells whether an enrollment was waiting for it."""
    counted = registry.metrics.inbox_messages
    raw = await request.body()
    try:
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidRequestError("the message is too large")
        receipt = await inbox.accept(raw, x_signature)
    except BridgeError as exc:
        counted.labels(exc.code).inc()
        if isinstance(exc, InvalidSignatureError):
            # Who sent it, never what: the body and the signature may be an attacker's probe or a secret.
            client = request.client.host if request.client else "unknown"
            log.warning("inbox message refused: bad signature", extra={"client": client})
        raise
    counted.labels(receipt).inc()
    return InboxReceipt(accepted=True, matched=receipt == "matched")
