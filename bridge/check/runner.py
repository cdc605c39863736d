"""Runs the check's scripted enrollment through a bridge and collects what the contract is built from.

The script, with every screen recorded: open the ticket; submit an invalid phone (the error is recorded),
then the real one; when the code is known to the check, submit a wrong code (recorded too), then the
real one. With the bridge's OTP inbox as the code source the bridge submits the code itself, so the
wrong-code probe is skipped and says so. A widget that stops cooperating part-way is not a failure of
the check: what was reached so far is the contract, and the comparison reports the rest as drift. Only
a bridge that cannot be reached or refuses the request, or a ticket that cannot be used, stops the check.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from bridge.check.codes import CodeSource, CodeUnavailableError
from bridge.check.contract import ErrorProbe, Recording, secret_forms
from bridge.client import AsyncBridgeClient, BridgeConnectionError
from bridge.client._core import inbox_settled
from bridge.errors import BridgeError, InvalidRequestError, NotFoundError
from bridge.models import CapturedCall, Enrollment, EnrollmentState

# A number in the range reserved for fiction (555-0100..0199): a widget must refuse or at least never
# reach a person with it.
INVALID_PHONE = "+15555550100"
# Start outcomes that mean the ticket, not the widget, is the problem: nothing to compare then.
TICKET_PROBLEMS = {"ticket_invalid", "ticket_used", "ticket_expired", "already_enrolled"}
S = EnrollmentState


class CheckError(Exception):
    """The check could not run (exit code 2). Messages are fixed text and error codes, never secrets."""

    def __init__(self, message: str, cause: BridgeError | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


@dataclass(frozen=True)
class Target:
    ticket_url: str | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        if (self.ticket_url is None) == (self.user_id is None):
            raise ValueError("give exactly one of ticket_url and user_id")

    @property
    def ticket_id(self) -> str | None:
        if not self.ticket_url:
            return None
        return dict(parse_qsl(urlsplit(self.ticket_url).query)).get("ticket")


def wrong_code_for(code: str) -> str:
    """A code of the same length that is certainly not ``code``."""
    if code.isdigit():
        return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"
    return "0" * 6 if code != "000000" else "1" * 6


def _probe(enrollment: Enrollment, step: str) -> ErrorProbe:
    last = next((s for s in reversed(enrollment.steps) if s.name == step), None)
    if last is None:
        return ErrorProbe(outcome="not_reached")
    if last.outcome == "ok":
        return ErrorProbe(outcome="accepted")
    return ErrorProbe(outcome="rejected", error_code=last.error_code, widget_message=last.widget_message)


class _Script:
    def __init__(
        self, client: AsyncBridgeClient, target: Target, phone: str, codes: CodeSource | None, wait_s: float
    ) -> None:
        self.client = client
        self.target = target
        self.phone = phone
        self.codes = codes
        self.wait_s = wait_s
        self.secrets = [*secret_forms(phone), target.ticket_id or "", target.user_id or ""]
        self.enrollment_id: str | None = None
        self.invalid_phone = ErrorProbe(outcome="not_reached")
        skipped = "the bridge submitted the code from its OTP inbox, so no wrong code could be tried"
        self.wrong_code = ErrorProbe(
            outcome="not_reached" if codes else "skipped", note=None if codes else skipped
        )

    async def attempt(self, call: Awaitable[Enrollment]) -> Enrollment | None:
        """The enrollment after one call; None when the widget broke part-way (recorded, not raised)."""
        try:
            enrollment = await call
        except BridgeConnectionError as exc:
            raise CheckError(f"could not reach the bridge ({exc.code})", exc) from exc
        except BridgeError as exc:
            if exc.enrollment_id is None:
                raise CheckError(
                    f"the bridge refused the check's request ({exc.code}): {exc.message}", exc
                ) from exc
            self.enrollment_id = exc.enrollment_id
            return None
        self.enrollment_id = enrollment.id
        return enrollment

    async def run(self) -> None:
        inbox = self.codes is None
        started = await self.attempt(
            self.client.start(
                self.target.ticket_url,
                user_id=self.target.user_id,
                phone_number=INVALID_PHONE if inbox else None,
                code_source="inbox" if inbox else None,
                record_screens=True,
            )
        )
        if started is not None and started.last_error and started.last_error.code in TICKET_PROBLEMS:
            message = f"the ticket could not be used ({started.last_error.code}); use a fresh one"
            raise CheckError(message, InvalidRequestError(message))
        if started is None:
            return
        if inbox:
            await self._inbox(started)
        else:
            await self._manual(started)

    async def _manual(self, started: Enrollment) -> None:
        assert self.codes is not None
        if started.state is not S.AWAITING_PHONE:
            return
        eid = started.id
        after = await self.attempt(self.client.submit_phone(eid, INVALID_PHONE))
        if after is None:
            return
        self.invalid_phone = _probe(after, "phone")
        if after.state is not S.AWAITING_PHONE:
            return  # the invalid number was accepted (or the widget broke): nothing sensible follows
        await self._guard(self.codes.prepare())
        sent = await self.attempt(self.client.submit_phone(eid, self.phone))
        if sent is None or sent.state is not S.AWAITING_CODE:
            return
        code = await self._guard(self.codes.code(sent))
        wrong = wrong_code_for(code)
        self.secrets += [code, wrong]
        refused = await self.attempt(self.client.submit_code(eid, wrong))
        if refused is None:
            return
        self.wrong_code = _probe(refused, "code")
        if refused.state is S.AWAITING_CODE:
            await self.attempt(self.client.submit_code(eid, code))

    async def _inbox(self, started: Enrollment) -> None:
        eid = started.id
        self.invalid_phone = _probe(started, "phone")
        if started.state is not S.AWAITING_PHONE:
            return
        sent = await self.attempt(self.client.submit_phone(eid, self.phone))
        if sent is None or sent.state is not S.AWAITING_CODE:
            return
        deadline = time.monotonic() + self.wait_s
        while (current := await self.attempt(self.client.get(eid))) is not None:
            if inbox_settled(current):
                return
            if time.monotonic() > deadline:
                raise CheckError(
                    f"the bridge's inbox did not complete the enrollment within {self.wait_s:g}s"
                )
            await asyncio.sleep(0.25)

    async def _guard(self, step: Awaitable[str | None]) -> str:
        try:
            result = await step
        except CodeUnavailableError as exc:
            raise CheckError(f"no code: {exc}") from exc
        return result or ""

    async def abandon(self) -> None:
        """Cancels the enrollment after the check failed, so it does not hold a session until its TTL."""
        if self.enrollment_id is not None:
            # Already finished, or the bridge is gone: either way nothing is held any more.
            with contextlib.suppress(BridgeError):
                await self.client.cancel(self.enrollment_id)

    async def collect(self) -> Recording:
        if self.enrollment_id is None:
            raise CheckError("the bridge did not start an enrollment")
        eid, client = self.enrollment_id, self.client
        try:
            final = await client.get(eid)
            calls: list[CapturedCall] = []
            while page := (await client.calls(eid, after=calls[-1].seq if calls else 0, limit=500)).calls:
                calls += page
            screens = await client.screens(eid)
            pngs = [await self._screenshot(eid, i) for i in range(len(screens))]
            if not final.state.terminal:
                await client.cancel(eid)  # frees the bridge's session slot at once
        except BridgeError as exc:
            raise CheckError(
                f"could not read the enrollment's record from the bridge ({exc.code})", exc
            ) from exc
        if final.recovery_code:
            self.secrets.append(final.recovery_code)
        return Recording(
            enrollment=final,
            calls=calls,
            screens=screens,
            code_source=self.codes.name if self.codes else "inbox",
            invalid_phone=self.invalid_phone,
            wrong_code=self.wrong_code,
            secrets=[s for s in self.secrets if s],
            screenshots=pngs,
        )

    async def _screenshot(self, eid: str, index: int) -> bytes:
        try:
            return await self.client.screen_screenshot(eid, index)
        except NotFoundError:
            return b""  # the page could not render at that moment; the screen's texts still count


async def record(
    client: AsyncBridgeClient,
    target: Target,
    phone: str,
    codes: CodeSource | None,
    inbox_wait_s: float = 150.0,
) -> Recording:
    """Runs the script against the bridge behind ``client``; ``codes=None`` means the bridge's OTP inbox."""
    script = _Script(client, target, phone, codes, inbox_wait_s)
    try:
        await script.run()
    except CheckError:
        await script.abandon()
        raise
    return await script.collect()
