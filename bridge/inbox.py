"""The OTP inbox: signed messages forwarded by the tenant's SMS hook, matched to the enrollment awaiting them.

A message is accepted only with a valid ``X-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, a fresh
``created_at`` and an ``id`` not seen within the max-age window. Only enrollment codes are used
(``action: "enrollment"``; Auth0's send-phone-message event also carries login challenges).

An enrollment declares what it expects *before* its code is sent (``expect``): the recipient and, when it
knows it, the Auth0 user. A message goes to exactly one expectation or to none:

- with a ``user_id`` some expectation for that phone has, only to that user's expectation;
- otherwise to the one expectation waiting for that phone; when several are, to none of them, and each
  learns that the code was ambiguous rather than typing a code that may be someone else's.

A resend replaces the expectation, so a code sent after it can only reach the new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.errors import (
    InboxDisabledError,
    InvalidRequestError,
    InvalidSignatureError,
    MessageReplayedError,
    MessageStaleError,
    RateLimitedError,
)

# Codes in free text: the first run of 4-10 ASCII digits standing on its own (never other scripts' digits).
_CODE_IN_TEXT = re.compile(r"(?<![0-9])([0-9]{4,10})(?![0-9])")
_ASCII_CODE = re.compile(r"^[0-9]{4,10}$")
# Tolerated clock difference between the tenant and the bridge for created_at checks.
CLOCK_SKEW_S = 30.0
# Ids remembered at most (a flood of validly signed messages can only come from the tenant itself).
MAX_REMEMBERED = 100_000
# The message_options.action of an enrollment code (the other is "second-factor-authentication").
ENROLLMENT_ACTION = "enrollment"

Receipt = Literal["matched", "unmatched", "ambiguous", "ignored"]


class InboxPayload(BaseModel):
    """The send-phone-message Action's ``message_options`` and ``event.user.user_id``, plus an id and a
    timestamp."""

    model_config = ConfigDict(extra="ignore")

    recipient: str = Field(min_length=3, max_length=32)
    code: str | None = Field(default=None, max_length=32)
    text: str | None = Field(default=None, max_length=2000)
    action: str | None = Field(default=None, max_length=64)
    message_type: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=512)
    id: str = Field(min_length=1, max_length=200)
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    """What an expectation ended with: its code, or none (``ambiguous`` when one came but could not be
    told apart from another enrollment's)."""

    code: str | None
    ambiguous: bool = False


def _new_future() -> asyncio.Future[Delivery]:
    return asyncio.get_running_loop().create_future()


@dataclass(eq=False)
class Expectation:
    """One enrollment waiting for the code of one send (phone step or resend)."""

    recipient: str  # ASCII digits only
    user_id: str | None
    since: datetime
    result: asyncio.Future[Delivery] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def digits(phone: str) -> str:
    return re.sub(r"[^0-9]", "", phone)


def extract_code(payload: InboxPayload) -> str | None:
    if payload.code and _ASCII_CODE.match(payload.code.strip()):
        return payload.code.strip()
    match = _CODE_IN_TEXT.search(payload.text or "")
    return match.group(1) if match else None


class OtpInbox:
    def __init__(self, secret: str | None, max_age_s: float = 300.0) -> None:
        self._secret = secret.encode() if secret else None
        self._max_age = timedelta(seconds=max_age_s)
        # Every id seen in the max-age window (by its created_at), for replay refusal: an id older than
        # the window is refused as stale anyway, so forgetting it then opens no replay.
        self._seen: dict[str, datetime] = {}
        self._expecting: list[Expectation] = []

    @property
    def enabled(self) -> bool:
        return self._secret is not None

    def _verify(self, raw: bytes, signature: str | None) -> None:
        if self._secret is None:
            raise InboxDisabledError("the OTP inbox is off: set BRIDGE_OTP_INBOX_SECRET")
        if not signature or not signature.startswith("sha256="):
            raise InvalidSignatureError("missing X-Signature: sha256=<hex HMAC-SHA256 of the body>")
        expected = hmac.new(self._secret, raw, hashlib.sha256).hexdigest().encode()
        # Bytes, not text: a header with non-ASCII characters is just a wrong signature.
        presented = signature.removeprefix("sha256=").strip().lower().encode("utf-8", "replace")
        if not hmac.compare_digest(presented, expected):
            raise InvalidSignatureError("the X-Signature does not match the body")

    def _remember(self, message_id: str, created: datetime, now: datetime) -> None:
        horizon = now - self._max_age - timedelta(seconds=CLOCK_SKEW_S)
        if len(self._seen) >= MAX_REMEMBERED:
            self._seen = {k: v for k, v in self._seen.items() if v >= horizon}
        if len(self._seen) >= MAX_REMEMBERED:
            raise RateLimitedError("the OTP inbox is receiving too many messages", retry_after=30)
        self._seen[message_id] = created

    def _checked(self, raw: bytes, signature: str | None, now: datetime) -> tuple[InboxPayload, datetime]:
        """The message, signed and in shape, with its creation time, refused when stale."""
        self._verify(raw, signature)
        try:
            payload = InboxPayload.model_validate_json(raw)
        except ValidationError as exc:
            fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")}))
            raise InvalidRequestError(f"the message is not in the expected shape ({fields})") from exc
        created = payload.created_at if payload.created_at.tzinfo else payload.created_at.replace(tzinfo=UTC)
        if created < now - self._max_age or created > now + timedelta(seconds=CLOCK_SKEW_S):
            raise MessageStaleError("the message is too old (or from the future)")
        return payload, created

    async def accept(self, raw: bytes, signature: str | None, now: datetime | None = None) -> Receipt:
        """Verifies one message and hands its code to the expectation it belongs to, if any."""
        now = now or datetime.now(UTC)
        payload, created = self._checked(raw, signature, now)
        if payload.id in self._seen:
            raise MessageReplayedError("a message with this id was already received")
        code = extract_code(payload)
        if code is None:
            raise InvalidRequestError("the message carries no code")
        self._remember(payload.id, created, now)
        if payload.action != ENROLLMENT_ACTION:
            return "ignored"
        return self._hand_over(digits(payload.recipient), payload.user_id or None, created, code)

    def _hand_over(self, recipient: str, user_id: str | None, created: datetime, code: str) -> Receipt:
        skew = timedelta(seconds=CLOCK_SKEW_S)
        same_phone = [
            e
            for e in self._expecting
            if e.recipient == recipient and not e.result.done() and created >= e.since - skew
        ]
        candidates = same_phone
        if user_id is not None:
            users = [e for e in same_phone if e.user_id == user_id]
            # A user no expectation knows: only enrollments of unknown users may be its.
            candidates = users or [e for e in same_phone if e.user_id is None]
        if not candidates:
            return "unmatched"
        if len(candidates) > 1:
            for expectation in candidates:
                expectation.result.set_result(Delivery(None, ambiguous=True))
            return "ambiguous"
        candidates[0].result.set_result(Delivery(code))
        return "matched"

    # --- expectations ---
    def expect(self, recipient: str, user_id: str | None) -> Expectation:
        """Registers an enrollment about to have a code sent to ``recipient`` (call before sending)."""
        expectation = Expectation(digits(recipient), user_id, datetime.now(UTC))
        self._expecting.append(expectation)
        return expectation

    def forget(self, expectation: Expectation) -> None:
        if expectation in self._expecting:
            self._expecting.remove(expectation)
        if not expectation.result.done():
            expectation.result.cancel()

    def expecting(self, recipient: str) -> int:
        """How many enrollments wait for a code to ``recipient`` now."""
        key = digits(recipient)
        return sum(1 for e in self._expecting if e.recipient == key and not e.result.done())

    async def wait(self, expectation: Expectation, within_s: float) -> Delivery:
        """What ``expectation`` receives within ``within_s`` (no code when nothing came); then forgets it."""
        try:
            return await asyncio.wait_for(asyncio.shield(expectation.result), within_s)
        except TimeoutError:
            return Delivery(None)
        finally:
            self.forget(expectation)
