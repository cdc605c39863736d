"""Runs the check's scripted enrollment through a bridge and collects what the contract is built from.

The script, with every screen recorded: open the ticket; submit an invalid phone (the error is recorded),
then the real one; when the code is known to the check, submit a wrong code (recorded too), then the
real one. With the bridge's OTP inbox as the code source the bridge submits the code itself, so the
wrong-code probe is skipped and says so. A widget that stops cooperating part-way is not a failure of
the check: what was reached so far is the contract, and the comparison reports the rest as drift. Only
a bridge that cannot be reached or refuses the request, or a ticket that cannot be used, stops the check.
"""

from __future__ import annotations

import contextlib

from bridge.check.codes import CodeSource, CodeUnavailableError
from bridge.check.contract import ErrorProbe, Recording, secret_forms
from bridge.client import AsyncBridgeClient, BridgeConnectionError
from bridge.client.flow import FlowHooks, FlowPlan, Probed, wrong_code_for
from bridge.errors import BridgeError, InvalidRequestError, NotFoundError
from bridge.models import CapturedCall, EngineChoice, Enrollment
from bridge.outcomes import ExitClass, OutcomeCode
from bridge.target import EnrollmentTarget

# A number in the range reserved for fiction (555-0100..0199): a widget must refuse or at least never
# reach a person with it.
INVALID_PHONE = "+15555550100"
# Start outcomes that mean the ticket, not the widget, is the problem (the codes whose exit class says
# so): nothing to compare then.
TICKET_PROBLEMS = frozenset(
    code for code in OutcomeCode if code.exit_class in (ExitClass.TICKET, ExitClass.ALREADY_ENROLLED)
)
# The check's target is the shared ticket-or-user model; the old name stays for callers.
Target = EnrollmentTarget

__all__ = ["INVALID_PHONE", "TICKET_PROBLEMS", "CheckError", "Target", "record", "wrong_code_for"]


class CheckError(Exception):
    """The check could not run (exit code 2). Messages are fixed text and error codes, never secrets."""

    def __init__(self, message: str, cause: BridgeError | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


def _probe(enrollment: Enrollment, step: str) -> ErrorProbe:
    last = next((s for s in reversed(enrollment.steps) if s.name == step), None)
    if last is None:
        return ErrorProbe(outcome="not_reached")
    if last.outcome == "ok":
        return ErrorProbe(outcome="accepted")
    return ErrorProbe(outcome="rejected", error_code=last.error_code, widget_message=last.widget_message)


class _Codes:
    """The check's ``CodeSource`` as the flow's: a code that cannot be had stops the check."""

    def __init__(self, source: CodeSource, script: _Script) -> None:
        self._source = source
        self._script = script

    async def prepare(self) -> None:
        try:
            await self._source.prepare()
        except CodeUnavailableError as exc:
            raise CheckError(f"no code: {exc}") from exc

    async def code(self, enrollment: Enrollment, attempt: int) -> str | None:
        try:
            code = await self._source.code(enrollment)
        except CodeUnavailableError as exc:
            raise CheckError(f"no code: {exc}") from exc
        self._script.secrets.append(code)
        return code


class _Script(FlowHooks):
    """Runs the shared enrollment flow (``bridge.client.flow``) with both probes and every screen
    recorded, and keeps what the contract is built from: the probes' answers and the secrets to scrub."""

    def __init__(
        self,
        client: AsyncBridgeClient,
        target: Target,
        phone: str,
        codes: CodeSource | None,
        wait_s: float,
        engine: EngineChoice | None = None,
    ) -> None:
        self.client = client
        self.engine = engine
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

    async def run(self) -> None:
        """The scripted enrollment. A widget that breaks part-way ends it quietly (what was reached is
        the contract); an unreachable or refusing bridge, or an unusable ticket, raises ``CheckError``."""
        plan = FlowPlan(
            self.target,
            self.phone,
            inbox=self.codes is None,
            max_code_attempts=1,
            timeout=self.wait_s,
            phone_step=True,
            record_screens=True,
            probe_phone=INVALID_PHONE,
            probe_code=True,
            engine=self.engine,
        )
        codes = _Codes(self.codes, self) if self.codes is not None else None
        try:
            await self.client.run_flow(plan, codes, self, poll_interval=0.25)
        except BridgeConnectionError as exc:
            raise CheckError(f"could not reach the bridge ({exc.code})", exc) from exc
        except BridgeError as exc:
            if exc.enrollment_id is None:
                raise CheckError(
                    f"the bridge refused the check's request ({exc.code}): {exc.message}", exc
                ) from exc
            self.enrollment_id = exc.enrollment_id  # the widget broke part-way: recorded, not raised
        except TimeoutError:
            raise CheckError(
                f"the bridge's inbox did not complete the enrollment within {self.wait_s:g}s"
            ) from None

    # --- FlowHooks ---

    def seen(self, enrollment: Enrollment) -> None:
        first = self.enrollment_id is None
        self.enrollment_id = enrollment.id
        problem = enrollment.last_error.code if enrollment.last_error else None
        if first and problem in TICKET_PROBLEMS:
            message = f"the ticket could not be used ({problem}); use a fresh one"
            raise CheckError(message, InvalidRequestError(message))

    def probed(self, probe: Probed) -> None:
        if probe.kind == "phone":
            self.invalid_phone = _probe(probe.enrollment, "phone")
        else:
            self.secrets.append(probe.submitted)
            self.wrong_code = _probe(probe.enrollment, "code")

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
    engine: EngineChoice | None = None,
) -> Recording:
    """Runs the script against the bridge behind ``client``; ``codes=None`` means the bridge's OTP inbox.
    ``engine`` names the bridge's engine for the enrollment (its default when None)."""
    script = _Script(client, target, phone, codes, inbox_wait_s, engine)
    try:
        await script.run()
    except CheckError:
        await script.abandon()
        raise
    return await script.collect()
