"""The registry with an injected clock and a fake engine: admission without a browser, expiry by idle
time and by age, retention, and the slot each enrollment holds until it is disposed of."""

from __future__ import annotations

import asyncio

import pytest

from bridge.errors import (
    EnrollmentExpiredError,
    EnrollmentNotFoundError,
    InvalidRequestError,
    SessionLimitError,
)
from bridge.inbox import OtpInbox
from bridge.metrics import Metrics
from bridge.models import EnrollmentState
from bridge.phone import parse_e164
from bridge.registry import Registry
from bridge.settings import BridgeSettings
from tests.unit.fakes import FakeEngine, ManualClock

S = EnrollmentState
TICKET_URL = "https://tenant.example/guardian/enroll?ticket=T1CKET"


def make(**settings: object) -> tuple[Registry, FakeEngine, ManualClock]:
    engine, clock = FakeEngine(), ManualClock()
    values = {"idle_ttl_s": 60, "max_age_s": 300, "retention_s": 120, "max_enrollments": 2, **settings}
    registry = Registry(
        BridgeSettings.model_validate(values),
        [engine],
        inbox=OtpInbox(None),
        metrics=Metrics(),
        clock=clock,
    )
    return registry, engine, clock


async def test_an_idle_enrollment_expires_and_then_refuses_steps() -> None:
    registry, engine, clock = make()
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    clock.advance(59)
    assert await registry.reap() == 0
    clock.advance(2)
    assert await registry.reap() == 1
    assert session.view().state is S.EXPIRED
    assert engine.sessions[0].closed
    assert registry.in_use == 0
    with pytest.raises(EnrollmentExpiredError):
        await session.submit_phone(parse_e164("+14155550123"), "sms")


async def test_activity_keeps_an_enrollment_alive_until_its_maximum_age() -> None:
    registry, _, clock = make()
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    await session.submit_phone(parse_e164("+14155550123"), "sms")
    for _ in range(5):
        clock.advance(50)
        await session.resend()  # a step counts as activity
        assert await registry.reap() == 0
    clock.advance(51)  # 301 s old, 50 s idle
    assert await registry.reap() == 1
    assert session.view().state is S.EXPIRED


async def test_a_finished_enrollment_stays_readable_for_its_retention_then_goes() -> None:
    registry, _, clock = make()
    session = await registry.create(engine="protocol")
    await session.start(TICKET_URL)
    await registry.cancel(session.id)
    assert session.view().state is S.CANCELLED
    clock.advance(119)
    await registry.reap()
    assert registry.get(session.id) is session
    clock.advance(2)
    await registry.reap()
    with pytest.raises(EnrollmentNotFoundError):
        registry.get(session.id)


async def test_admission_counts_enrollments_that_hold_no_browser() -> None:
    registry, _, _ = make(max_enrollments=1)
    first = await registry.create(engine="protocol")
    with pytest.raises(SessionLimitError) as info:
        await registry.create(engine="protocol")
    assert info.value.retry_after is not None
    assert registry.rejections == 1
    await registry.cancel(first.id)
    second = await registry.create(engine="protocol")
    assert registry.in_use == 1
    await registry.close()
    assert second.view().state is S.CANCELLED
    assert registry.in_use == 0


async def test_a_waiting_start_gets_the_slot_a_cancel_frees() -> None:
    registry, _, _ = make(max_enrollments=1, queue_timeout_s=5.0)
    first = await registry.create(engine="protocol")
    waiting = asyncio.create_task(registry.create(engine="protocol"))
    await asyncio.sleep(0)
    assert registry.waiting == 1
    await registry.cancel(first.id)
    second = await waiting
    assert (registry.in_use, registry.waiting) == (1, 0)
    await registry.cancel(second.id)


async def test_an_engine_the_bridge_does_not_have_is_a_request_error() -> None:
    registry, _, _ = make()
    with pytest.raises(InvalidRequestError):
        await registry.create(engine="browser")
    assert registry.in_use == 0
