"""The drain in single-process mode, on a fake engine: it refuses nothing itself (the API does), waits for
open enrollments for the drain timeout, then cancels what is left with ``bridge_shutdown``."""

from __future__ import annotations

import asyncio

from bridge.cluster.drain import Drain
from bridge.inbox import OtpInbox
from bridge.metrics import Metrics
from bridge.models import EnrollmentState
from bridge.outcomes import OutcomeCode
from bridge.phone import parse_e164
from bridge.registry import Registry
from bridge.settings import BridgeSettings
from tests.unit.fakes import FakeEngine

TICKET_URL = "https://tenant.example/guardian/enroll?ticket=T1CKET"


def _registry() -> Registry:
    return Registry(BridgeSettings(), [FakeEngine()], inbox=OtpInbox(None), metrics=Metrics())


async def test_what_ends_in_time_keeps_its_state_and_the_rest_ends_bridge_shutdown() -> None:
    registry = _registry()
    finishing = await registry.create(engine="protocol")
    await finishing.start(TICKET_URL)
    left = await registry.create(engine="protocol")
    await left.start(TICKET_URL)
    drain = Drain(registry, timeout_s=0.6)
    running = asyncio.get_running_loop().create_task(drain.run())
    await asyncio.sleep(0.05)
    assert drain.draining  # from the first moment: /readyz and starts refuse
    await finishing.submit_phone(parse_e164("+14155550123"), "sms")
    await registry.cancel(finishing.id)  # the caller ends it within the timeout
    await running
    assert finishing.view().state is EnrollmentState.CANCELLED
    assert finishing.view().last_error is None
    view = left.view()
    assert view.state is EnrollmentState.CANCELLED
    assert view.last_error is not None
    assert view.last_error.code == OutcomeCode.BRIDGE_SHUTDOWN
    assert registry.in_use == 0


async def test_with_nothing_open_the_drain_ends_at_once() -> None:
    drain = Drain(_registry(), timeout_s=30)
    await asyncio.wait_for(drain.run(), 2)
    assert drain.draining
