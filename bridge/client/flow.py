"""The whole enrollment flow, planned once (sans I/O) for every caller that runs it through a bridge.

``BridgeClient.enroll``, the ``enroll`` and ``demo`` commands and the contract check are the same
sequence: open the ticket, send the code to the phone, then either wait while the bridge's OTP inbox
submits the code or ask for it and submit it, again after a refusal. A ``FlowPlan`` says which variant a
caller wants (the phone as its own step so each can be shown; the check's two probes, a number the
widget must refuse and a wrong code); ``enroll_flow`` is a generator that yields what to do and gets the
answers back, and each client's ``run_flow`` performs it, reporting to ``FlowHooks`` as it goes (a
progress display, the check's recorder).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

from bridge.client._core import Call, code_call, inbox_settled, phone_call, start_call
from bridge.models import Channel, CodeSource, EngineChoice, Enrollment, EnrollmentState
from bridge.target import EnrollmentTarget

S = EnrollmentState


@dataclass(frozen=True)
class FlowPlan:
    target: EnrollmentTarget
    phone: str
    channel: Channel = "sms"
    inbox: bool = False  # the bridge's OTP inbox supplies the code; nobody is asked for it
    max_code_attempts: int = 3
    timeout: float = 300.0  # the longest wait for the inbox to settle the enrollment
    phone_step: bool = False  # open the ticket, then send the phone as a call of its own (not with inbox)
    record_screens: bool = False
    probe_phone: str | None = None  # a number the widget must refuse, sent (and reported) before the real one
    probe_code: bool = False  # a wrong code sent (and reported) before the first real one
    engine: EngineChoice | None = None  # browser, protocol or auto; None: the bridge's default

    def __post_init__(self) -> None:
        if self.max_code_attempts < 1:
            raise ValueError("max_code_attempts must be at least 1")


# What a step is doing, for a display to say so while it runs.
Doing = Literal["open", "open_and_send", "send_code", "check_code"]


@dataclass(frozen=True)
class Send:
    """Perform ``call``; the flow gets the enrollment it answers with."""

    call: Call[Enrollment]
    doing: Doing


@dataclass(frozen=True)
class WaitFor:
    """Wait until ``done`` holds for the enrollment (or ``timeout`` seconds pass); the flow gets it then."""

    enrollment_id: str
    done: Callable[[Enrollment], bool]
    timeout: float


@dataclass(frozen=True)
class PrepareCode:
    """The real phone number is about to be sent: a code source that reads new messages starts looking."""


@dataclass(frozen=True)
class AskCode:
    """Ask the code source for the code sent for ``enrollment``; the flow gets a str, or None for none."""

    enrollment: Enrollment
    attempt: int  # 1-based


@dataclass(frozen=True)
class Probed:
    """A probe's answer, for whoever records it: ``submitted`` is what was sent (a secret)."""

    kind: Literal["phone", "code"]
    enrollment: Enrollment
    submitted: str


Action: TypeAlias = Send | WaitFor | PrepareCode | AskCode | Probed
Flow: TypeAlias = Generator[Action, Any, Enrollment]


def wrong_code_for(code: str) -> str:
    """A code of the same length that is certainly not ``code``."""
    if code.isdigit():
        return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"
    return "0" * 6 if code != "000000" else "1" * 6


def enroll_flow(plan: FlowPlan) -> Flow:
    """The flow's steps; returns the last enrollment seen. Refusals and failed tickets are outcomes: the
    flow stops and returns the enrollment as it is (possibly still open)."""
    first_phone = plan.probe_phone or plan.phone
    enrollment: Enrollment
    if plan.phone_step and not plan.inbox:
        opened = start_call(plan.target, None, plan.channel, None, plan.record_screens, plan.engine)
        enrollment = yield Send(opened, "open")
        if enrollment.state is not S.AWAITING_PHONE:
            return enrollment
        if plan.probe_phone is None:
            yield PrepareCode()
        enrollment = yield Send(phone_call(enrollment.id, first_phone, None), "send_code")
    else:
        # The bridge needs the phone up front in inbox mode, so opening and sending are one call.
        if plan.probe_phone is None and not plan.inbox:
            yield PrepareCode()
        code_source: CodeSource | None = "inbox" if plan.inbox else None
        opened = start_call(
            plan.target, first_phone, plan.channel, code_source, plan.record_screens, plan.engine
        )
        enrollment = yield Send(opened, "open_and_send")
    if plan.probe_phone is not None:
        yield Probed("phone", enrollment, plan.probe_phone)
        if enrollment.state is not S.AWAITING_PHONE:
            return enrollment  # the number was accepted (or the widget broke): nothing sensible follows
        if not plan.inbox:
            yield PrepareCode()
        enrollment = yield Send(phone_call(enrollment.id, plan.phone, None), "send_code")
    if enrollment.state is not S.AWAITING_CODE:
        return enrollment
    if plan.inbox:
        settled: Enrollment = yield WaitFor(enrollment.id, inbox_settled, plan.timeout)
        return settled
    for attempt in range(1, plan.max_code_attempts + 1):
        code = yield AskCode(enrollment, attempt)
        if code is None:
            break
        if plan.probe_code and attempt == 1:
            wrong = wrong_code_for(code)
            enrollment = yield Send(code_call(enrollment.id, wrong), "check_code")
            yield Probed("code", enrollment, wrong)
            if enrollment.state is not S.AWAITING_CODE:
                return enrollment
        enrollment = yield Send(code_call(enrollment.id, code), "check_code")
        if enrollment.state is not S.AWAITING_CODE:
            break
    return enrollment


class FlowHooks:
    """What a driver reports while it runs a flow; every hook does nothing unless overridden."""

    def running(self, action: Send | WaitFor) -> AbstractContextManager[None]:
        """Around each call and each wait (a display shows a spinner)."""
        return nullcontext()

    def seen(self, enrollment: Enrollment) -> None:
        """Each enrollment the bridge answered with, in order, including those read while waiting."""

    def probed(self, probe: Probed) -> None:
        """A probe's answer (the contract check records it)."""


class Codes(Protocol):
    """Where a synchronous driver gets codes from."""

    def prepare(self) -> None: ...

    def code(self, enrollment: Enrollment, attempt: int) -> str | None: ...


class AsyncCodes(Protocol):
    """Where an asynchronous driver gets codes from."""

    async def prepare(self) -> None: ...

    async def code(self, enrollment: Enrollment, attempt: int) -> str | None: ...


@dataclass(frozen=True)
class CallableCodes:
    """A function of the enrollment as the code source (``enroll``'s ``code_source``); it must return str."""

    ask: Callable[[Enrollment], Any]

    def prepare(self) -> None:
        return None

    def code(self, enrollment: Enrollment, attempt: int) -> str | None:
        return checked_code(self.ask(enrollment))


@dataclass(frozen=True)
class AsyncCallableCodes:
    """A function of the enrollment, sync or async, as the code source of ``AsyncBridgeClient.enroll``."""

    ask: Callable[[Enrollment], Any]

    async def prepare(self) -> None:
        return None

    async def code(self, enrollment: Enrollment, attempt: int) -> str | None:
        value = self.ask(enrollment)
        if isinstance(value, Awaitable):
            value = await value
        return checked_code(value)


def checked_code(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("code_source must return the code as a str")
    return value
