"""The OTP inbox: signed messages forwarded by the tenant's SMS hook, matched to waiting enrollments.

A message is accepted only with a valid ``X-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, a fresh
``created_at`` and an ``id`` not seen before. Each message is handed to at most one enrollment: the first
one waiting for a code to the same recipient that started its phone step before the message arrived.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.errors import (
    InboxDisabledError,
    InvalidRequestError,
    InvalidSignatureError,
    MessageReplayedError,
    MessageStaleError,
)

# Codes in free text: the first run of 4-10 digits standing on its own.
_CODE_IN_TEXT = re.compile(r"(?<!\d)(\d{4,10})(?!\d)")
# Tolerated clock difference between the tenant and the bridge for created_at checks.
CLOCK_SKEW_S = 30.0


class InboxPayload(BaseModel):
    """The send-phone-message Action's ``message_options`` plus an id and a timestamp."""

    model_config = ConfigDict(extra="ignore")

    recipient: str = Field(min_length=3, max_length=32)
    code: str | None = Field(default=None, max_length=32)
    text: str | None = Field(default=None, max_length=2000)
    action: str | None = None
    message_type: str | None = None
    id: str = Field(min_length=1, max_length=200)
    created_at: datetime


@dataclass
class InboxMessage:
    id: str
    recipient: str
    code: str
    created_at: datetime
    received_mono: float
    consumed: bool = False


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def extract_code(payload: InboxPayload) -> str | None:
    if payload.code and payload.code.strip().isdigit():
        return payload.code.strip()
    match = _CODE_IN_TEXT.search(payload.text or "")
    return match.group(1) if match else None


class OtpInbox:
    def __init__(self, secret: str | None, max_age_s: float = 300.0, keep: int = 2000) -> None:
        self._secret = secret.encode() if secret else None
        self._max_age = timedelta(seconds=max_age_s)
        self._keep = keep
        # Every id seen (bounded), for replay refusal; messages not yet consumed, for matching.
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._messages: list[InboxMessage] = []
        self._arrived = asyncio.Condition()
        self._waiters: dict[str, int] = {}  # recipient digits -> enrollments waiting for a code

    @property
    def enabled(self) -> bool:
        return self._secret is not None

    def _verify(self, raw: bytes, signature: str | None) -> None:
        if self._secret is None:
            raise InboxDisabledError("the OTP inbox is off: set BRIDGE_OTP_INBOX_SECRET")
        if not signature or not signature.startswith("sha256="):
            raise InvalidSignatureError("missing X-Signature: sha256=<hex HMAC-SHA256 of the body>")
        expected = hmac.new(self._secret, raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.removeprefix("sha256=").strip().lower(), expected):
            raise InvalidSignatureError("the X-Signature does not match the body")

    async def accept(self, raw: bytes, signature: str | None, now: datetime | None = None) -> bool:
        """Verifies and stores one message; returns whether an enrollment is waiting for it."""
        self._verify(raw, signature)
        try:
            payload = InboxPayload.model_validate_json(raw)
        except ValidationError as exc:
            fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")}))
            raise InvalidRequestError(f"the message is not in the expected shape ({fields})") from exc
        now = now or datetime.now(UTC)
        created = payload.created_at if payload.created_at.tzinfo else payload.created_at.replace(tzinfo=UTC)
        if created < now - self._max_age or created > now + timedelta(seconds=CLOCK_SKEW_S):
            raise MessageStaleError("the message is too old (or from the future)")
        if payload.id in self._seen:
            raise MessageReplayedError("a message with this id was already received")
        code = extract_code(payload)
        if code is None:
            raise InvalidRequestError("the message carries no code")
        self._seen[payload.id] = None
        while len(self._seen) > self._keep:
            self._seen.popitem(last=False)
        message = InboxMessage(payload.id, _digits(payload.recipient), code, created, time.monotonic())
        self._messages.append(message)
        self._messages = [m for m in self._messages if m.created_at >= now - self._max_age][-self._keep :]
        async with self._arrived:
            self._arrived.notify_all()
        return self._waiters.get(message.recipient, 0) > 0

    def _take(self, recipient: str, since_mono: float, since_wall: datetime) -> str | None:
        for message in self._messages:
            if (
                not message.consumed
                and message.recipient == recipient
                and message.received_mono >= since_mono
                and message.created_at >= since_wall - timedelta(seconds=CLOCK_SKEW_S)
            ):
                message.consumed = True
                return message.code
        return None

    async def wait_for_code(
        self, recipient: str, since_mono: float, since_wall: datetime, within_s: float
    ) -> str | None:
        """The code of the first unconsumed message to ``recipient`` that arrived after ``since``."""
        key = _digits(recipient)
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with asyncio.timeout(within_s), self._arrived:
                while (code := self._take(key, since_mono, since_wall)) is None:
                    await self._arrived.wait()
                return code
        except TimeoutError:
            return None
        finally:
            self._waiters[key] -= 1
