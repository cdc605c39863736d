"""The protocol engine's drivers, driven directly against the fake tenant on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from bridge.artifacts import Artifacts
from bridge.call_log import CallLog
from bridge.protocol.driver import ProtocolDriver
from bridge.protocol.open import open_protocol
from bridge.redact import Redactor
from bridge.urls import HostPolicy
from guardian_bridge_fake.harness import FakeTenantClient

PHONE = "+14155550123"


def loopback(*urls: str) -> HostPolicy:
    """The allowlist a set-up with tenants on this machine writes: each URL's loopback port, exactly."""
    return HostPolicy.of([f"127.0.0.1:{urlsplit(url).port}" for url in urls])


Opener = Callable[..., Awaitable[ProtocolDriver]]


@pytest.fixture(params=["classic", "universal"])
def flavour(request: pytest.FixtureRequest, fake: FakeTenantClient) -> str:
    experience: str = request.param
    fake.set_experience(experience)  # type: ignore[arg-type]
    return experience


@pytest.fixture
def calls() -> CallLog:
    return CallLog(Redactor())


@pytest_asyncio.fixture(loop_scope="session")
async def open_driver(calls: CallLog, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens a ticket with the protocol engine; every driver opened is closed after the test."""
    opened: list[ProtocolDriver] = []

    async def run(ticket_url: str, timeout_s: float = 5.0, **options: object) -> ProtocolDriver:
        driver = await open_protocol(
            ticket_url,
            policy=options.pop("policy", loopback(ticket_url)),  # type: ignore[arg-type]
            timeout_s=timeout_s,
            sink=calls,
            redactor=calls.redactor,
            artifacts=Artifacts(tmp_path, "enr_test"),
            **options,  # type: ignore[arg-type]
        )
        assert driver is not None, "the ticket page was not recognised"
        opened.append(driver)
        return driver

    yield run
    for driver in opened:
        await driver.close()
