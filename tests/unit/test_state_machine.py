"""The enrollment state machine against a fake widget driver and a fake engine session: every
transition, refusals out of order, terminal outcomes, timeouts, and what finishing frees."""

from __future__ import annotations

import pytest

from bridge import state_machine
from bridge.errors import (
    BrowserCrashedError,
    StepOutOfOrderError,
    UpstreamError,
    WidgetTimeoutError,
    WidgetUnrecognizedError,
)
from bridge.inbox import OtpInbox
from bridge.metrics import Metrics
from bridge.models import EnrollmentState, StepName
from bridge.outcomes import Outcome, OutcomeCode
from bridge.phone import parse_e164
from bridge.registry import Registry
from bridge.settings import BridgeSettings
from tests.unit.fakes import FakeDriver, FakeEngine, ManualClock

S = EnrollmentState
C = OutcomeCode
PHONE = parse_e164("+14155550123")
TICKET_URL = "https://tenant.example/guardian/enroll?ticket=T1CKET"
RECOVERY = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def make_registry(*drivers: FakeDriver | None, **settings: object) -> tuple[Registry, FakeEngine]:
    engine = FakeEngine(*drivers)
    registry = Registry(
        BridgeSettings.model_validate({"max_enrollments": 2, **settings}),
        [engine],
        inbox=OtpInbox(None),
        metrics=Metrics(),
        clock=ManualClock(),
    )
    return registry, engine


async def test_a_whole_enrollment_moves_through_every_state() -> None:
    driver = FakeDriver(code=[Outcome("ok", recovery_code=RECOVERY)])
    registry, engine = make_registry(driver)
    session = await registry.create(engine="protocol")
    assert (session.view().state, registry.in_use) == (S.STARTING, 1)
    await session.start(TICKET_URL)
    assert session.view().state is S.AWAITING_PHONE
    await session.submit_phone(PHONE, "sms")
    assert session.view().state is S.AWAITING_CODE
    await session.resend()
    assert session.view().state is S.AWAITING_CODE
    await session.submit_code("123456")
    view = session.view()
    assert view.state is S.COMPLETED
    assert view.recovery_code == RECOVERY
    assert [(s.name, s.outcome) for s in view.steps] == [
        ("start", "ok"),
        ("phone", "ok"),
        ("resend", "ok"),
        ("code", "ok"),
    ]
    assert view.phone_number == "+1******0123"
    assert view.code_attempts == 1
    assert engine.sessions[0].closed  # finishing frees the engine session and the slot
    assert registry.in_use == 0
    states = [e.data["state"] async for e in session.follow_events() if e is not None and e.type == "state"]
    assert states == ["starting", "awaiting_phone", "awaiting_code", "completed"]


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (S.STARTING, "phone"),
        (S.STARTING, "code"),
        (S.AWAITING_PHONE, "start"),
        (S.AWAITING_PHONE, "code"),
        (S.AWAITING_PHONE, "resend"),
        (S.AWAITING_CODE, "phone"),
        (S.COMPLETED, "code"),
        (S.FAILED, "phone"),
        (S.CANCELLED, "resend"),
    ],
)
def test_a_step_out_of_order_is_refused(state: EnrollmentState, step: StepName) -> None:
    with pytest.raises(StepOutOfOrderError, match=f"cannot run the {step} step in state {state.value}"):
        state_machine.require(step, state, "enr_x")


def test_every_step_starts_from_a_live_state_only() -> None:
    for transition in state_machine.TRANSITIONS.values():
        assert transition.starts_from
        assert not any(state.terminal for state in transition.starts_from)


@pytest.mark.parametrize(
    ("step", "outcome", "expected"),
    [
        ("start", Outcome("ok"), S.AWAITING_PHONE),
        ("phone", Outcome("ok"), S.AWAITING_CODE),
        ("code", Outcome("ok"), S.COMPLETED),
        ("resend", Outcome("ok"), None),
        ("phone", Outcome.error(C.INVALID_PHONE_NUMBER, None), None),
        ("code", Outcome.error(C.INVALID_OTP, None), None),
        ("code", Outcome.error(C.TOO_MANY_ATTEMPTS, None), S.FAILED),
        ("start", Outcome.error(C.TICKET_USED, None), S.FAILED),
        ("start", Outcome("rejected", C.CHANNEL_UNSUPPORTED), S.FAILED),
        ("start", Outcome.error(C.WIDGET_TIMEOUT, None), None),
        ("phone", Outcome.error(C.WIDGET_UNRECOGNIZED, None), S.FAILED),
    ],
)
def test_next_state(step: StepName, outcome: Outcome, expected: EnrollmentState | None) -> None:
    assert state_machine.next_state(step, outcome) is expected


async def test_the_enrollment_refuses_a_step_out_of_order_and_keeps_its_record() -> None:
    registry, _ = make_registry(FakeDriver())
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    with pytest.raises(StepOutOfOrderError) as info:
        await session.submit_code("123456")
    assert info.value.enrollment_id == session.id
    assert session.view().state is S.AWAITING_PHONE
    assert [s.name for s in session.view().steps] == ["start"]


async def test_a_rejected_step_keeps_the_state_and_says_why() -> None:
    driver = FakeDriver(
        phone=[Outcome.error(C.INVALID_PHONE_NUMBER, "That number is not valid")],
        code=[Outcome.error(C.INVALID_OTP, "Wrong code"), Outcome("ok", recovery_code=RECOVERY)],
    )
    registry, _ = make_registry(driver)
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    await session.submit_phone(PHONE, "sms")
    view = session.view()
    assert view.state is S.AWAITING_PHONE
    assert view.last_error is not None
    assert (view.last_error.code, view.last_error.message) == (
        C.INVALID_PHONE_NUMBER,
        C.INVALID_PHONE_NUMBER.message,
    )
    assert view.last_error.widget_message == "That number is not valid"
    await session.submit_phone(PHONE, "sms")
    await session.submit_code("000000")
    assert session.view().state is S.AWAITING_CODE
    await session.submit_code("123456")
    view = session.view()
    assert (view.state, view.last_error, view.code_attempts) == (S.COMPLETED, None, 2)


async def test_a_terminal_outcome_fails_the_enrollment_and_keeps_its_last_picture() -> None:
    driver = FakeDriver(code=[Outcome.error(C.TOO_MANY_ATTEMPTS, "Too many failed attempts")])
    registry, engine = make_registry(driver)
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    await session.submit_phone(PHONE, "sms")
    await session.submit_code("000000")
    view = session.view()
    assert view.state is S.FAILED
    assert view.last_error is not None
    assert view.last_error.code == "too_many_attempts"
    assert view.steps[-1].outcome == "failed"
    assert engine.sessions[0].closed
    assert await session.screenshot() == b"\x89PNG fake"  # taken before the session closed
    assert registry.in_use == 0


@pytest.mark.parametrize(
    "ready", [Outcome.error(C.TICKET_EXPIRED, None), Outcome("rejected", C.WIDGET_ERROR)]
)
async def test_a_start_that_does_not_reach_phone_entry_fails(ready: Outcome) -> None:
    registry, _ = make_registry(FakeDriver(ready=[ready]))
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    assert session.view().state is S.FAILED
    assert session.view().steps[0].error_code == ready.error_code


async def test_an_unrecognised_page_fails_with_a_pointer_to_its_screenshot() -> None:
    registry, _ = make_registry(None)
    session = await registry.create(engine="protocol")
    with pytest.raises(WidgetUnrecognizedError, match="screenshot"):
        await session.start(TICKET_URL)
    assert session.view().state is S.FAILED
    assert session.view().flavour is None


async def test_a_timed_out_step_keeps_the_state_and_raises() -> None:
    driver = FakeDriver(phone=[Outcome.error(C.WIDGET_TIMEOUT, None), TimeoutError()])
    registry, _ = make_registry(driver)
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    for _ in range(2):
        with pytest.raises(WidgetTimeoutError):
            await session.submit_phone(PHONE, "sms")
        assert session.view().state is S.AWAITING_PHONE
    assert [s.outcome for s in session.view().steps[1:]] == ["timeout", "timeout"]
    await session.submit_phone(PHONE, "sms")  # the caller may try again
    assert session.view().state is S.AWAITING_CODE


async def test_an_engine_failure_is_recorded_and_raised_and_ends_only_a_start() -> None:
    driver = FakeDriver(phone=[UpstreamError("the tenant answered 500")])
    registry, _ = make_registry(driver, FakeDriver(ready=[UpstreamError("the page did not load")]))
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    with pytest.raises(UpstreamError) as info:
        await session.submit_phone(PHONE, "sms")
    assert info.value.enrollment_id == session.id
    assert session.view().state is S.AWAITING_PHONE
    assert session.view().steps[-1].error_code == "upstream_error"
    second = await registry.create(engine="protocol")
    with pytest.raises(UpstreamError):
        await second.start(TICKET_URL)
    assert second.view().state is S.FAILED


async def test_an_engine_crash_fails_every_open_enrollment_on_it() -> None:
    registry, engine = make_registry(FakeDriver(), FakeDriver(code=[Outcome("ok", recovery_code=RECOVERY)]))
    open_one = await registry.create(engine="protocol")
    await open_one.start(TICKET_URL)
    done = await registry.create(engine="protocol")
    await done.start(TICKET_URL)
    await done.submit_phone(PHONE, "sms")
    await done.submit_code("123456")
    await registry.fail_open("protocol", C.BROWSER_CRASHED)
    assert open_one.view().state is S.FAILED
    last_error = open_one.view().last_error
    assert last_error is not None
    assert last_error.code == "browser_crashed"
    assert done.view().state is S.COMPLETED
    assert all(s.closed for s in engine.sessions)
    with pytest.raises(StepOutOfOrderError):
        await open_one.submit_phone(PHONE, "sms")


async def test_a_driver_crash_during_a_step_is_a_crash() -> None:
    registry, _ = make_registry(FakeDriver(phone=[BrowserCrashedError("gone")]))
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    with pytest.raises(BrowserCrashedError):
        await session.submit_phone(PHONE, "sms")
    assert session.view().state is S.FAILED


async def test_screens_are_recorded_only_when_asked() -> None:
    registry, engine = make_registry(FakeDriver(), FakeDriver())
    recorded = await registry.create(engine="protocol", record_screens=True)
    await recorded.start(TICKET_URL)
    assert [s.name for s in recorded.screens()] == ["phone"]
    assert recorded.screen_png(0) == b"\x89PNG fake"
    assert recorded.screen_png(1) is None
    plain = await registry.create(engine="protocol")
    await plain.start(TICKET_URL)
    assert plain.screens() == []
    assert engine.sessions[1].screens_read == []
